"""The OSV record model and the spec's evaluation algorithm, one event kind at a time."""

from __future__ import annotations

import pytest

from clearroom.vulns.osv import InvalidAdvisory, parse_advisory
from clearroom.vulns.severity import best_score, score_vector


def affected(*ranges, versions=None, ecosystem="PyPI", name="demo"):
    entry = {"package": {"ecosystem": ecosystem, "name": name}, "ranges": list(ranges)}
    if versions is not None:
        entry["versions"] = versions
    adv = parse_advisory({"id": "T-1", "modified": "2024-01-01T00:00:00Z", "affected": [entry]})
    return adv.affected[0]


def eco(*events, kind="ECOSYSTEM"):
    return {"type": kind, "events": [dict([e]) for e in events]}


# -- introduced / fixed ---------------------------------------------------------------------


def test_introduced_zero_and_fixed():
    a = affected(eco(("introduced", "0"), ("fixed", "1.2")))
    assert [a.affects(v) for v in ("0.1", "1.0", "1.1.9", "1.2", "1.3")] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_introduced_is_inclusive():
    a = affected(eco(("introduced", "1.0"), ("fixed", "2.0")))
    assert (a.affects("0.9"), a.affects("1.0"), a.affects("1.9"), a.affects("2.0")) == (
        False,
        True,
        True,
        False,
    )


def test_introduced_only_means_every_later_version():
    a = affected(eco(("introduced", "3.0")))
    assert (a.affects("2.9"), a.affects("3.0"), a.affects("99")) == (False, True, True)


def test_several_windows_in_one_range():
    a = affected(
        eco(("introduced", "1.0"), ("fixed", "1.2"), ("introduced", "3.0"), ("fixed", "3.2.5"))
    )
    got = {v: a.affects(v) for v in ("0.5", "1.1", "1.2", "2.0", "3.0", "3.2.4", "3.2.5", "4")}
    assert got == {
        "0.5": False,
        "1.1": True,
        "1.2": False,
        "2.0": False,
        "3.0": True,
        "3.2.4": True,
        "3.2.5": False,
        "4": False,
    }


def test_events_are_sorted_by_version_before_the_walk():
    shuffled = affected(
        eco(("fixed", "3.2"), ("introduced", "3.0"), ("fixed", "1.2"), ("introduced", "0"))
    )
    assert [shuffled.affects(v) for v in ("1.0", "2.0", "3.1", "3.2")] == [True, False, True, False]


# -- last_affected / limit ------------------------------------------------------------------


def test_last_affected_is_inclusive():
    a = affected(eco(("introduced", "0"), ("last_affected", "2.1.214")))
    assert (a.affects("2.1.213"), a.affects("2.1.214"), a.affects("2.1.215")) == (True, True, False)


def test_limit_caps_an_open_range():
    a = affected(eco(("introduced", "1.0"), ("limit", "2.0")))
    assert (a.affects("0.9"), a.affects("1.5"), a.affects("2.0"), a.affects("5.0")) == (
        False,
        True,
        False,
        False,
    )


def test_several_limits_any_one_admits():
    a = affected(eco(("introduced", "1.0"), ("limit", "2.0"), ("limit", "4.0")))
    assert (a.affects("1.5"), a.affects("3.0"), a.affects("4.0")) == (True, True, False)


def test_limit_star_is_infinity():
    a = affected(eco(("introduced", "1.0"), ("limit", "*")))
    assert a.affects("1000.0") is True


# -- versions lists -------------------------------------------------------------------------


def test_versions_list_affects_directly():
    a = affected(versions=["1.0", "1.1", "weird-tag"])
    assert (a.affects("1.1"), a.affects("weird-tag"), a.affects("1.2")) == (True, True, False)


def test_versions_list_equality_is_the_ecosystems():
    a = affected(versions=["1.0"])
    assert a.affects("1.0.0") is True  # PEP 440: 1.0 == 1.0.0


def test_a_listed_version_outside_the_ranges_is_affected():
    a = affected(eco(("introduced", "0"), ("fixed", "1.0")), versions=["1.5"])
    assert (a.affects("1.5"), a.affects("1.4")) == (True, False)
    assert a.evaluate("1.5", ranges_only=True).affected is False


# -- GIT ------------------------------------------------------------------------------------

SHA1, SHA2 = "a" * 40, "b" * 40


def test_git_range_alone_is_unknown():
    a = affected(eco(("introduced", SHA1), ("fixed", SHA2), kind="GIT"))
    result = a.evaluate("1.0")
    assert result.affected is None
    assert "commit graph" in result.reason


def test_git_range_with_a_versions_list_lets_the_list_decide():
    a = affected(eco(("introduced", SHA1), ("fixed", SHA2), kind="GIT"), versions=["1.0"])
    assert (a.affects("1.0"), a.affects("2.0")) == (True, False)


def test_git_and_ecosystem_ranges_with_a_list():
    a = affected(
        eco(("introduced", SHA1), ("fixed", SHA2), kind="GIT"),
        eco(("introduced", "4.0"), ("fixed", "4.3")),
        versions=["4.0", "4.1", "4.2"],
    )
    assert (a.affects("4.1"), a.affects("4.3"), a.affects("3.0")) == (True, False, False)


# -- invalid ranges: flagged, never a crash, never a guess ----------------------------------


@pytest.mark.parametrize(
    ("events", "reason"),
    [
        ([{"fixed": "1.0"}], "no introduced event"),
        ([{"introduced": "0", "fixed": "1.0"}], "exactly one kind"),
        ([{"introduced": "0"}, {"patched": "1.0"}], "unknown event kind"),
        ([{"introduced": 1}], "not a non-empty string"),
        ([{"introduced": "0"}, {"fixed": "not a version!!"}], "unparsable version"),
        ("nope", "events is not a list"),
    ],
    ids=["no-introduced", "two-kinds", "unknown-kind", "non-string", "unparsable", "not-a-list"],
)
def test_invalid_range_is_flagged_and_answers_unknown(events, reason):
    a = affected({"type": "ECOSYSTEM", "events": events})
    assert a.ranges[0].invalid is not None
    assert reason in a.ranges[0].invalid
    result = a.evaluate("0.5")
    assert result.affected is None
    assert reason in result.reason


def test_invalid_range_does_not_hide_a_valid_one():
    a = affected(
        {"type": "ECOSYSTEM", "events": [{"fixed": "9"}]},
        eco(("introduced", "0"), ("fixed", "1.0")),
    )
    assert a.affects("0.5") is True
    assert a.affects("2.0") is None  # the invalid range might have said yes


def test_unknown_range_type():
    a = affected({"type": "CALVER", "events": [{"introduced": "0"}]})
    assert "unknown range type" in a.ranges[0].invalid
    assert a.affects("1") is None


def test_unparsable_query_version_is_unknown_not_guessed():
    a = affected(eco(("introduced", "0"), ("fixed", "1.2")))
    result = a.evaluate("not a version!!")
    assert result.affected is None
    assert "unparsable" in result.reason


def test_unparsable_query_version_still_matches_the_list():
    a = affected(eco(("introduced", "0"), ("fixed", "1.2")), versions=["not a version!!"])
    assert a.affects("not a version!!") is True


def test_unknown_ecosystem_is_unknown_unless_listed():
    a = affected(eco(("introduced", "0")), versions=["7"], ecosystem="NoSuchEcosystem")
    assert "no version ordering" in a.ranges[0].invalid
    assert (a.affects("7"), a.affects("8")) == (True, None)


def test_semver_ranges_in_go():
    a = affected(
        eco(("introduced", "0"), ("fixed", "1.6.0"), kind="SEMVER"),
        ecosystem="Go",
        name="github.com/gin-gonic/gin",
    )
    assert (a.affects("1.5.9"), a.affects("1.6.0"), a.affects("1.6.0-rc.1")) == (True, False, True)


def test_fixed_versions_in_version_order():
    a = affected(
        eco(("introduced", "2.0"), ("fixed", "2.10"), ("introduced", "0"), ("fixed", "1.9"))
    )
    assert a.fixed_versions() == ("1.9", "2.10")


# -- the record ------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [[], "x", {"modified": "2024"}, {"id": 7}, {"id": ""}])
def test_not_an_osv_record(data):
    with pytest.raises(InvalidAdvisory, match="vulns:"):
        parse_advisory(data)


def test_garbage_fields_are_dropped_leniently():
    adv = parse_advisory(
        {
            "id": "T-2",
            "modified": 5,
            "aliases": "CVE-1",
            "related": ["R-1", 3],
            "severity": [{"type": "CVSS_V3"}, "x"],
            "affected": [None, {"package": "x", "ranges": {"a": 1}}],
            "references": [{"url": "https://example.org"}, {"type": "WEB"}],
        }
    )
    assert adv.aliases == ()
    assert adv.related == ("R-1",)
    assert adv.severity == ()
    assert len(adv.affected) == 1 and adv.affected[0].ranges == ()
    assert [r.url for r in adv.references] == ["https://example.org"]


def test_withdrawn_and_ids():
    adv = parse_advisory(
        {"id": "GHSA-1", "modified": "x", "withdrawn": "2024-01-01T00:00:00Z", "aliases": ["CVE-1"]}
    )
    assert adv.is_withdrawn
    assert adv.ids == {"GHSA-1", "CVE-1"}


def test_raw_specific_fields_are_kept():
    adv = parse_advisory(
        {
            "id": "GO-1",
            "modified": "x",
            "affected": [
                {
                    "package": {"ecosystem": "Go", "name": "m"},
                    "ecosystem_specific": {"imports": [{"path": "m", "symbols": ["F"]}]},
                    "database_specific": {"source": "x"},
                }
            ],
        }
    )
    assert adv.affected[0].ecosystem_specific == {"imports": [{"path": "m", "symbols": ["F"]}]}
    assert adv.affected[0].database_specific == {"source": "x"}


# -- severity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "version", "score", "rating"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 9.8, "CRITICAL"),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N", "3.0", 6.8, "MEDIUM"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", "4.0", 5.1, "MEDIUM"),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0", 7.5, "HIGH"),
    ],
)
def test_cvss_vectors_score(vector, version, score, rating):
    result = score_vector(vector)
    assert (result.version, result.score, result.rating, result.reason) == (
        version,
        score,
        rating,
        None,
    )


@pytest.mark.parametrize(
    "vector",
    ["", "CVSS:3.1/AV:X", "CVSS:3.1/AV:N", "CVSS:9.9/AV:N", "CVSS:4.0/AV:N/garbage", "x" * 10_000],
)
def test_bad_vectors_give_none_with_a_reason(vector):
    result = score_vector(vector)
    assert result.score is None and result.rating is None
    assert result.reason and result.reason.startswith("CVSS")


def test_best_score_prefers_the_newest_version_that_scores():
    entries = [
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        ("CVSS_V4", "CVSS:4.0/broken"),
        ("Ubuntu", "high"),
    ]
    assert best_score(entries).version == "3.1"
    assert best_score([("CVSS_V4", "CVSS:4.0/broken")]).score is None
    assert best_score([("Ubuntu", "high")]) is None
