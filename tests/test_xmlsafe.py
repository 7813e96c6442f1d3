from __future__ import annotations

import pytest

from hub.check import xmlsafe
from hub.errors import Code, PackageRejected

MAX = 1024 * 1024


def code_of(data: bytes, max_bytes: int = MAX) -> Code:
    with pytest.raises(PackageRejected) as caught:
        xmlsafe.parse(data, max_bytes=max_bytes)
    return caught.value.code


def test_well_formed_utf8_parses() -> None:
    tree = xmlsafe.parse(
        '<?xml version="1.0" encoding="UTF-8"?><a>Nghệ An</a>'.encode(), max_bytes=MAX
    )
    assert tree.getroot().text == "Nghệ An"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", Code.XML_MALFORMED),
        (b"<a><b></a>", Code.XML_MALFORMED),
        (b"1212<?xml version='1.0'?><a/>", Code.XML_MALFORMED),
        (b"  <?xml version='1.0'?><a/>", Code.XML_MALFORMED),
        (b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9</a>", Code.XML_MALFORMED),
        (b"<a>\xff\xfe</a>", Code.XML_MALFORMED),
        ("<a/>".encode("utf-16"), Code.XML_MALFORMED),
        (b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', Code.XML_FORBIDDEN),
        (b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>', Code.XML_FORBIDDEN),
        (
            b'<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd"/></a>',
            Code.XML_FORBIDDEN,
        ),
        (b"<a>&undeclared;</a>", Code.XML_MALFORMED),
        (b"<a>" * 65 + b"</a>" * 65, Code.XML_FORBIDDEN),
    ],
)
def test_refusals(data: bytes, code: Code) -> None:
    assert code_of(data) is code


def test_billion_laughs_is_refused_before_expansion() -> None:
    lol = (
        b'<!DOCTYPE l [<!ENTITY a "lol">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)
        )
        + b"]><l>&j;</l>"
    )
    assert code_of(lol) is Code.XML_FORBIDDEN


def test_depth_64_is_allowed() -> None:
    xmlsafe.parse(b"<a>" * 64 + b"</a>" * 64, max_bytes=MAX)


def test_size_limit_comes_first() -> None:
    assert code_of(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50) is Code.TOO_LARGE


def test_too_deep_and_xinclude_name_the_first_offending_line() -> None:
    """Found by libxml2 (a path of one step per level; the namespace as resolved, so a URI
    spelled with character references is still XInclude)."""
    nested = b"<b>" * 70 + b"</b>" * 70
    deep = b"<a>\n" + nested + b"\n<c>" + nested + b"</c></a>"
    with pytest.raises(PackageRejected, match="deep at line 2;"):
        xmlsafe.parse(deep, max_bytes=MAX)
    hidden = (
        b"<a>\n<b/>\n<b><x:include xmlns:x='http://www.w3.org/2001/&#88;Include' href='/etc'/>"
        b"</b></a>"
    )
    with pytest.raises(PackageRejected, match="XInclude element at line 3;"):
        xmlsafe.parse(hidden, max_bytes=MAX)
