from __future__ import annotations

import pytest

from hub.errors import RegistryError
from hub.registry.organ_id import check_organ_id, is_strict


@pytest.mark.parametrize("organ", ["000.00.00.G22", "000.00.00.H41", "000.00.14.H20"])
def test_national_form_is_accepted(organ: str) -> None:
    assert is_strict(organ)
    assert check_organ_id(organ) == organ


@pytest.mark.parametrize("organ", ["28.22.H17", "000.00.00.g22", "000.00.00.G2", "X"])
def test_other_forms_need_the_legacy_flag(organ: str) -> None:
    with pytest.raises(RegistryError, match="--legacy"):
        check_organ_id(organ)
    assert check_organ_id(organ, legacy=True) == organ


@pytest.mark.parametrize("organ", ["", "a b", "x" * 36, "đ.01", "a/b"])
def test_nothing_outside_the_schema_alphabet_is_registered(organ: str) -> None:
    with pytest.raises(RegistryError, match="1 to 35 characters"):
        check_organ_id(organ, legacy=True)


@pytest.mark.parametrize("organ", ["000.00.00.G22.urgent", "BNV.URGENT", "x.Urgent"])
def test_an_id_that_would_take_another_urgent_inbox_is_refused(organ: str) -> None:
    """Review finding 8: ``X.urgent``'s inbox was X's urgent inbox (and its read permission)."""
    with pytest.raises(RegistryError, match="urgent inbox"):
        check_organ_id(organ, legacy=True)
