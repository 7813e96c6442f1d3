from __future__ import annotations

import pytest

from hub import config
from hub.errors import ConfigError


def test_defaults_follow_the_contract() -> None:
    settings = config.load({})
    assert settings.amqp.url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.amqp.vhost == "/"
    assert settings.amqp.management_url == "http://127.0.0.1:15672/api"
    assert settings.database_url == "postgresql://postgres@127.0.0.1:5432/lienthong"
    assert settings.database_name == "lienthong"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.home.name == ".lienthong"
    assert settings.max_package_bytes == 67108864


def test_vhost_and_management_url_come_from_the_amqp_url() -> None:
    settings = config.load({"LIENTHONG_AMQP_URL": "amqps://hub:s%40cret@mq.example:5671/gov"})
    assert settings.amqp.vhost == "gov"
    assert settings.amqp.password == "s@cret"
    assert settings.amqp.management_url == "https://mq.example:15672/api"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LIENTHONG_AMQP_URL", "http://x", "is not an AMQP URL"),
        ("LIENTHONG_AMQP_URL", "amqp://h:99999/", "bad port"),
        ("LIENTHONG_DATABASE_URL", "mysql://x/y", "is not a PostgreSQL URL"),
        ("LIENTHONG_DATABASE_URL", "postgresql://x", "with a database name"),
        ("LIENTHONG_HTTP", "8080", "is not host:port"),
        ("LIENTHONG_HTTP", "h:70000", "is not host:port"),
        ("LIENTHONG_MAX_PACKAGE_BYTES", "-1", "positive whole number"),
        ("LIENTHONG_MAX_PACKAGE_BYTES", "64MB", "positive whole number"),
        ("LIENTHONG_AMQP_MANAGEMENT_URL", "ftp://x", "is not an http(s) URL"),
    ],
)
def test_a_wrong_setting_is_named_with_the_fix(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load({name: value})
    assert name in str(caught.value)
    assert says in str(caught.value)


def test_a_wrong_url_is_named_without_its_password() -> None:
    """A configuration error goes to logs and terminals: the password never does."""
    for name, value in (
        ("LIENTHONG_AMQP_URL", "http://hub:s3cr3t-pw@127.0.0.1:5672/"),
        ("LIENTHONG_AMQP_URL", "amqp://hub:s3cr3t-pw@127.0.0.1:notaport/"),
        ("LIENTHONG_DATABASE_URL", "mysql://hub:s3cr3t-pw@127.0.0.1/lienthong"),
        ("LIENTHONG_DATABASE_URL", "postgresql://hub:s3cr3t-pw@127.0.0.1:5432/"),
    ):
        with pytest.raises(ConfigError) as caught:
            config.load({name: value})
        assert "s3cr3t" not in str(caught.value), str(caught.value)
        assert "***" in str(caught.value)


def test_a_broker_url_list_names_a_cluster() -> None:
    settings = config.load(
        {"LIENTHONG_AMQP_URL": "amqp://hub:pw@10.0.0.1:5672/lt, amqp://hub:pw@10.0.0.2:5673/lt"}
    )
    assert settings.amqp.urls == (
        "amqp://hub:pw@10.0.0.1:5672/lt",
        "amqp://hub:pw@10.0.0.2:5673/lt",
    )
    assert settings.amqp.url == settings.amqp.urls[0] and settings.amqp.vhost == "lt"
    with pytest.raises(ConfigError, match="differ only in host and port"):
        config.load({"LIENTHONG_AMQP_URL": "amqp://hub:pw@a/lt,amqp://hub:pw@b/other"})


async def test_the_hub_connects_to_the_first_node_that_answers() -> None:
    from hub.broker import topology
    from tests.harness import free_port

    real = config.load({}).amqp.url
    dead = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    connection = await topology.connect_any((dead, real), robust=False)
    try:
        assert not connection.is_closed
    finally:
        await connection.close()
