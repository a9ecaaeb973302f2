"""``/api/v1/services``: the catalogue, filtered by key or name, in pages."""

from __future__ import annotations


def test_everyone_with_a_token_reads_the_catalogue(member):
    listed = member.get("/services").json
    assert [s["key"] for s in listed["items"]] == [
        "candidates",
        "clients",
        "contacts",
        "employees",
        "jobs",
        "master-list",
    ]
    assert listed["items"][0] == {"key": "candidates", "name": "Candidate API"}
    assert listed["total"] == 6 and listed["next_page"] is None


def test_q_matches_key_or_name_ignoring_case(member):
    assert [s["key"] for s in member.get("/services", q="EMPLOY").json["items"]] == ["employees"]
    assert [s["key"] for s in member.get("/services", q="master-").json["items"]] == ["master-list"]
    assert member.get("/services", q="%").json["items"] == []  # LIKE wildcards are literal


def test_pages(member):
    first = member.get("/services", per_page=4).json
    assert len(first["items"]) == 4 and first["next_page"] == 2
    second = member.get("/services", per_page=4, page=2).json
    assert len(second["items"]) == 2 and second["next_page"] is None
