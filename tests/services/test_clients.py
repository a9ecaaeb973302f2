"""The rules of clients (secret, expiry, cap, names, who may grant what) through the services,
including the cap under concurrency."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.errors import Conflict, Forbidden, InvalidInput, LimitReached, NotFound
from app.extensions import db
from app.models import AuditEvent, Client
from app.security.secrets import hash_secret
from app.services import client_queries, clients, users
from app.services.actors import Actor
from tests.helpers import ADMIN, MEMBER, OTHER, clean_environment

REPO = Path(__file__).resolve().parents[2]


def soon(days: int = 30) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


@pytest.fixture
def ctx(app, people):
    with app.app_context():
        yield


def person(email: str) -> Actor:
    return Actor.person(users.get_by_email(email), address="192.0.2.7")


def create(
    actor: Actor,
    name: str = "payroll sync",
    scopes=("jobs",),
    owner: str | None = None,
    expires_on: date | str | None = None,
    description: str | None = None,
):
    return clients.create_client(
        actor,
        name=name,
        scopes=list(scopes),
        owner_email=owner,
        expires_on=expires_on or soon(),
        description=description,
    )


def count(model=Client, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def active_count(owner: str) -> int:
    owner_id = users.get_by_email(owner).id
    return count(
        Client,
        Client.owner_id == owner_id,
        Client.revoked_at.is_(None),
        Client.expires_on >= datetime.now(UTC).date(),
    )


def expire(client_id: str) -> None:
    db.session.execute(
        update(Client)
        .where(Client.client_id == client_id)
        .values(expires_on=datetime.now(UTC).date() - timedelta(days=1))
    )
    db.session.commit()


def audit_text() -> str:
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    return "\n".join(
        f"{e.actor} {e.action} {e.target} {e.address} {json.dumps(e.details)}" for e in events
    )


# -- rule 4: who may create what ----------------------------------------------
def test_member_creates_for_themselves(ctx):
    issued = create(person(MEMBER), scopes=["jobs", "candidates"])
    assert issued.client.owner.email == MEMBER
    assert issued.client.scopes == ["candidates", "jobs"]
    assert issued.client.created_by == MEMBER
    named = create(person(MEMBER), name="second", owner=" Rep@Example.com ")
    assert named.client.owner.email == MEMBER


def test_member_cannot_create_for_someone_else(ctx):
    with pytest.raises(Forbidden):
        create(person(MEMBER), owner=OTHER)
    assert count() == 0


@pytest.mark.parametrize("scopes", [["employees"], ["jobs", "employees"], ["master-list"]])
def test_member_only_grants_services_they_hold(ctx, scopes):
    with pytest.raises(Forbidden) as caught:
        create(person(MEMBER), scopes=scopes)
    assert "employees" in caught.value.message or "master-list" in caught.value.message
    assert count() == 0


@pytest.mark.parametrize("scope", ["introspect", "manage"])
def test_system_scopes_are_for_admins_only(ctx, scope):
    with pytest.raises(Forbidden):
        create(person(MEMBER), scopes=["jobs", scope])
    assert count() == 0
    by_admin = create(person(ADMIN), name="admin's", scopes=[scope], owner=MEMBER)
    assert by_admin.client.scopes == [scope]
    by_cli = create(Actor.cli(), name="cli's", scopes=["jobs", scope], owner=OTHER)
    assert by_cli.client.scopes == sorted(["jobs", scope])


def test_admin_grants_any_catalogue_service_to_anyone(ctx):
    issued = create(person(ADMIN), scopes=["employees", "master-list"], owner=MEMBER)
    assert issued.client.owner.email == MEMBER
    assert issued.client.created_by == ADMIN


def test_admin_without_owner_creates_for_themselves(ctx):
    assert create(person(ADMIN)).client.owner.email == ADMIN


def test_cli_needs_an_owner(ctx):
    with pytest.raises(InvalidInput):
        create(Actor.cli())


def test_unknown_scope_and_unknown_owner(ctx):
    with pytest.raises(InvalidInput):
        create(Actor.cli(), scopes=["jobs", "payroll"], owner=MEMBER)
    with pytest.raises(NotFound):
        create(Actor.cli(), owner="nobody@example.com")
    with pytest.raises(InvalidInput):
        create(Actor.cli(), scopes=[" "], owner=MEMBER)
    assert count() == 0


def test_deactivated_owner_gets_no_new_clients(ctx):
    user = users.get_by_email(OTHER)
    user.active = False
    db.session.commit()
    with pytest.raises(InvalidInput):
        create(Actor.cli(), owner=OTHER)
    assert count() == 0


# -- rule 4: nobody reaches another member's clients --------------------------
def test_member_cannot_reach_another_members_client(ctx):
    theirs = create(person(OTHER)).client.client_id
    intruder = person(MEMBER)
    with pytest.raises(NotFound):
        client_queries.find_client(intruder, theirs)
    with pytest.raises(NotFound):
        clients.revoke_client(intruder, theirs)
    with pytest.raises(NotFound):
        clients.rotate_secret(intruder, theirs, 0)
    with pytest.raises(NotFound):
        clients.update_client(intruder, theirs, name="hijacked")
    # the same message as for an id that does not exist: existence is not revealed
    with pytest.raises(NotFound) as missing:
        client_queries.find_client(intruder, "x" * 24)
    with pytest.raises(NotFound) as hidden:
        client_queries.find_client(intruder, theirs)
    assert hidden.value.message.replace(theirs, "ID") == missing.value.message.replace(
        "x" * 24, "ID"
    )
    assert client_queries.list_clients(intruder, status="all") == []
    db.session.expire_all()
    client = client_queries.find_client(Actor.cli(), theirs)
    assert (client.name, client.revoked_at) == ("payroll sync", None)


def test_member_sees_and_manages_their_own(ctx):
    mine = create(person(MEMBER)).client.client_id
    create(person(OTHER))
    me = person(MEMBER)
    assert [c.client_id for c in client_queries.list_clients(me)] == [mine]
    assert client_queries.find_client(me, mine).client_id == mine
    assert clients.rotate_secret(me, mine, 0).client.client_id == mine
    client, already = clients.revoke_client(me, mine)
    assert (client.revoked_by, already) == (MEMBER, False)


def test_admin_reaches_anyones_client(ctx):
    theirs = create(person(OTHER)).client.client_id
    admin = person(ADMIN)
    assert client_queries.find_client(admin, theirs).owner.email == OTHER
    assert len(client_queries.list_clients(admin)) == 1
    assert clients.rotate_secret(admin, theirs, 30).previous_valid_until is not None
    client, already = clients.revoke_client(admin, theirs)
    assert (client.revoked_by, already) == (ADMIN, False)
    assert clients.revoke_client(admin, theirs)[1] is True


# -- rule 3: names -------------------------------------------------------------
def test_names_are_unique_per_owner_case_insensitively_after_trimming(ctx):
    first = create(Actor.cli(), name="Payroll Sync", owner=MEMBER)
    for clash in ("payroll sync", "  PAYROLL SYNC  ", "Payroll Sync"):
        with pytest.raises(Conflict):
            create(Actor.cli(), name=clash, owner=MEMBER)
    assert count() == 1
    assert create(Actor.cli(), name="payroll sync", owner=OTHER).client.name == "payroll sync"
    assert create(Actor.cli(), name="  Payroll Sync 2 ", owner=MEMBER).client.name == (
        "Payroll Sync 2"
    )
    clients.revoke_client(Actor.cli(), first.client.client_id)
    again = create(Actor.cli(), name=" payroll SYNC", owner=MEMBER)
    assert again.client.client_id != first.client.client_id


# names that look the same are the same name: compared after NFKC (compatibility forms,
# fullwidth letters, ligatures) with invisible format characters (zero-width ones) removed
LOOKALIKES = {
    "fullwidth": "\uff22\uff2f\uff22 \uff33\uff39\uff2e\uff23",
    "zero-width-space": "Bob\u200b sync",
    "zero-width-joiner": "B\u200dob sync",
    "word-joiner": "Bob s\u2060ync",
    "byte-order-mark": "\ufeffBob sync",
    "soft-hyphen": "Bob syn\u00adc",
    "bidi-mark": "Bob sync\u200e",
    "ideographic-space": "Bob\u3000sync",
    "no-break-space": "Bob\u00a0sync",
    "math-bold": "\U0001d401\U0001d428\U0001d41b sync",
    "upper-case": "BOB SYNC",
}


@pytest.mark.parametrize("lookalike", list(LOOKALIKES))
def test_names_that_look_the_same_are_the_same_name(ctx, lookalike):
    create(Actor.cli(), name="Bob sync", owner=MEMBER)
    with pytest.raises(Conflict):
        create(Actor.cli(), name=LOOKALIKES[lookalike], owner=MEMBER)
    db.session.rollback()
    assert count() == 1
    other = create(Actor.cli(), name="Reports", owner=MEMBER).client.client_id
    with pytest.raises(Conflict):
        clients.update_client(Actor.cli(), other, name=LOOKALIKES[lookalike])


def test_names_that_only_look_alike_at_a_glance_stay_distinct(ctx):
    create(Actor.cli(), name="Bob sync", owner=MEMBER)
    for name in ("Bob sync 2", "Bobsync", "Bob-sync", "Böb sync"):
        assert create(Actor.cli(), name=name, owner=MEMBER).client.name == name


def test_an_expired_client_frees_its_name(ctx):
    first = create(Actor.cli(), name="Payroll Sync", owner=MEMBER)
    expire(first.client.client_id)
    assert create(Actor.cli(), name="payroll sync", owner=MEMBER).client.name == "payroll sync"


def test_renaming_onto_an_active_name_is_refused(ctx):
    create(Actor.cli(), name="Payroll Sync", owner=MEMBER)
    other = create(Actor.cli(), name="Reports", owner=MEMBER).client.client_id
    with pytest.raises(Conflict):
        clients.update_client(Actor.cli(), other, name="  payroll sync ")
    db.session.rollback()
    assert client_queries.find_client(Actor.cli(), other).name == "Reports"


def test_name_and_description_limits(ctx):
    assert create(Actor.cli(), name="n" * 100, owner=MEMBER, description="d" * 1000)
    with pytest.raises(InvalidInput):
        create(Actor.cli(), name="m" * 101, owner=MEMBER)
    with pytest.raises(InvalidInput):
        create(Actor.cli(), name="x", owner=MEMBER, description="d" * 1001)
    with pytest.raises(InvalidInput):
        create(Actor.cli(), name="   ", owner=MEMBER)
    assert count() == 1


# -- rule 2: expiry ------------------------------------------------------------
def test_expiry_bounds(ctx):
    today = datetime.now(UTC).date()
    assert create(Actor.cli(), name="a", owner=MEMBER, expires_on=today).client
    assert create(Actor.cli(), name="b", owner=MEMBER, expires_on=soon(366)).client
    assert create(Actor.cli(), name="c", owner=MEMBER, expires_on=soon(366).isoformat()).client
    for bad in (soon(367), today - timedelta(days=1), "2027-02-30", "someday"):
        with pytest.raises(InvalidInput):
            create(Actor.cli(), name="d", owner=MEMBER, expires_on=bad)
    assert count() == 3


# -- rule 3: the cap -----------------------------------------------------------
def _fill(owner: str, number: int) -> list[str]:
    return [
        create(Actor.cli(), name=f"client {i}", owner=owner).client.client_id for i in range(number)
    ]


def test_the_26th_active_client_is_refused(ctx):
    _fill(MEMBER, 25)
    with pytest.raises(LimitReached) as caught:
        create(person(MEMBER), name="one too many")
    assert "25" in caught.value.message and MEMBER in caught.value.message
    assert active_count(MEMBER) == 25
    assert create(Actor.cli(), name="for someone else", owner=OTHER).client


def test_expired_and_revoked_clients_do_not_count(ctx):
    ids = _fill(MEMBER, 25)
    expire(ids[0])
    create(Actor.cli(), name="replaces an expired one", owner=MEMBER)
    clients.revoke_client(Actor.cli(), ids[1])
    create(Actor.cli(), name="replaces a revoked one", owner=MEMBER)
    with pytest.raises(LimitReached):
        create(Actor.cli(), name="one too many", owner=MEMBER)
    assert active_count(MEMBER) == 25
    assert count() == 27


def test_cap_follows_the_setting(app, config, people):
    config["GATEHOUSE_MAX_ACTIVE_CLIENTS"] = 2
    from app import create_app

    small = create_app(config)
    try:
        with small.app_context():
            _fill(MEMBER, 2)
            with pytest.raises(LimitReached):
                create(Actor.cli(), name="third", owner=MEMBER)
    finally:
        with small.app_context():
            db.engine.dispose()


# -- rules 1 and 8: audit, never a secret --------------------------------------
def test_create_revoke_rotate_are_audited_without_secrets(ctx):
    issued = create(Actor.cli(), name="audited", owner=MEMBER, scopes=["jobs", "introspect"])
    rotated = clients.rotate_secret(Actor.cli(), issued.client.client_id, 60)
    clients.revoke_client(Actor.cli(), issued.client.client_id)
    mine = create(person(MEMBER), name="mine")
    rotated_mine = clients.rotate_secret(person(MEMBER), mine.client.client_id, 0)
    clients.revoke_client(person(MEMBER), mine.client.client_id)

    events = [
        (e.actor, e.action, e.target, e.address)
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("client.%")).order_by(AuditEvent.id)
        )
    ]
    cid, mid = issued.client.client_id, mine.client.client_id
    assert events == [
        ("cli", "client.create", cid, None),
        ("cli", "client.rotate_secret", cid, None),
        ("cli", "client.revoke", cid, None),
        (MEMBER, "client.create", mid, "192.0.2.7"),
        (MEMBER, "client.rotate_secret", mid, "192.0.2.7"),
        (MEMBER, "client.revoke", mid, "192.0.2.7"),
    ]
    text = audit_text()
    for secret in (issued.secret, rotated.secret, mine.secret, rotated_mine.secret):
        assert secret not in text
        assert secret[4:-6] not in text
    stored = "\n".join(
        f"{c.secret_hash} {c.previous_secret_hash}" for c in db.session.scalars(select(Client))
    )
    for secret in (issued.secret, rotated.secret, mine.secret, rotated_mine.secret):
        assert secret not in stored


def test_failed_creation_writes_no_audit_entry(ctx):
    with pytest.raises(Forbidden):
        create(person(MEMBER), scopes=["manage"])
    with pytest.raises(InvalidInput):
        create(Actor.cli(), owner=MEMBER, expires_on="2027-02-30")
    _fill(MEMBER, 25)
    before = count(AuditEvent)
    with pytest.raises(LimitReached):
        create(Actor.cli(), name="over", owner=MEMBER)
    assert count(AuditEvent) == before == 25 + 3  # three user.create entries from the fixture


def test_secrets_and_ids_are_fresh(ctx):
    issued = [create(Actor.cli(), name=f"c{i}", owner=MEMBER) for i in range(10)]
    assert len({i.secret for i in issued}) == 10
    assert len({i.client.client_id for i in issued}) == 10
    rotated = clients.rotate_secret(Actor.cli(), issued[0].client.client_id, 0)
    assert rotated.secret not in {i.secret for i in issued}
    assert rotated.previous_valid_until is None


# -- the cap under concurrency --------------------------------------------------
RACERS = 40


def test_cap_holds_under_concurrent_threads(app, people):
    barrier = threading.Barrier(RACERS)

    def race(number: int) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                create(Actor.cli(), name=f"racer {number}", owner=MEMBER)
            except LimitReached:
                return "limit"
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                return f"{type(exc).__name__}: {exc}"
            finally:
                db.session.rollback()
            return "created"

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = list(pool.map(race, range(RACERS)))

    unexpected = [o for o in outcomes if o not in ("created", "limit")]
    assert unexpected == []
    assert outcomes.count("created") == 25
    assert outcomes.count("limit") == RACERS - 25
    with app.app_context():
        assert active_count(MEMBER) == 25
        assert count(AuditEvent, AuditEvent.action == "client.create") == 25


WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from app import create_app
    from app.cli import cli

    ready_dir, number, processes, owner, expires = sys.argv[1:6]
    app = create_app()
    runner = app.test_cli_runner()
    Path(ready_dir, number).touch()
    deadline = time.monotonic() + 60
    while len(list(Path(ready_dir).iterdir())) < int(processes):
        if time.monotonic() > deadline:
            sys.exit("the other processes never started")
        time.sleep(0.005)
    outcomes = []
    for attempt in range(10):
        result = runner.invoke(cli, ["clients", "create", "--owner", owner, "--services", "jobs",
                                     "--name", f"process {number} #{attempt}",
                                     "--expires", expires, "--json"])
        outcomes.append([result.exit_code, result.stderr.strip()])
    print(json.dumps(outcomes))
    """
)


def test_cap_holds_across_processes(app, config, people, tmp_path):
    env = clean_environment(**config, PYTHONPATH=REPO)
    ready = tmp_path / "ready"
    ready.mkdir()
    processes = 4
    running = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(ready),
                str(n),
                str(processes),
                MEMBER,
                soon().isoformat(),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    outcomes = []
    for process in running:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outcomes += json.loads(out)

    created = [o for o in outcomes if o[0] == 0]
    refused = [o for o in outcomes if o[0] != 0]
    assert len(created) == 25
    assert len(refused) == processes * 10 - 25
    for _, message in refused:
        assert message.startswith("Error: ") and "most allowed is 25" in message, message
    with app.app_context():
        assert active_count(MEMBER) == 25


# -- review findings: double submits, Unicode names, narrowing, control characters ----
def _together(app, count: int, work) -> list[str]:
    """Run ``work()`` in ``count`` threads released at once; outcomes as strings."""
    barrier = threading.Barrier(count)

    def run(_: int) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                return work()
            except Exception as exc:  # noqa: BLE001 - reported by the assertions
                return f"{type(exc).__name__}"
            finally:
                db.session.rollback()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_two_simultaneous_revocations_act_once(app, people):
    with app.app_context():
        client_id = create(Actor.cli(), owner=MEMBER).client.client_id
    outcomes = _together(
        app, 4, lambda: "again" if clients.revoke_client(Actor.cli(), client_id)[1] else "revoked"
    )
    assert sorted(outcomes) == ["again", "again", "again", "revoked"]
    with app.app_context():
        assert count(AuditEvent, AuditEvent.action == "client.revoke") == 1


def test_two_simultaneous_rotations_leave_one_working_secret(app, people):
    with app.app_context():
        client_id = create(Actor.cli(), owner=MEMBER).client.client_id
    secrets: list[str] = []

    def rotate() -> str:
        secrets.append(clients.rotate_secret(Actor.cli(), client_id).secret)
        return "rotated"

    outcomes = _together(app, 3, rotate)
    assert outcomes.count("rotated") == len(secrets)
    assert set(outcomes) <= {"rotated", "Conflict"}
    with app.app_context():
        stored = db.session.scalar(select(Client.secret_hash).where(Client.client_id == client_id))
        assert [hash_secret(s) for s in secrets].count(stored) == 1
        shown_but_dead = [s for s in secrets if hash_secret(s) != stored]
        assert len(shown_but_dead) == len(secrets) - 1 == outcomes.count("rotated") - 1


def test_names_differing_only_in_unicode_case_are_duplicates(ctx):
    create(person(ADMIN), name="Ärger", owner=MEMBER)
    with pytest.raises(Conflict):
        create(person(ADMIN), name="ärger", owner=MEMBER)


def test_member_may_narrow_a_token_holding_an_admin_granted_system_scope(ctx):
    made = create(person(ADMIN), owner=MEMBER, scopes=("jobs", "candidates", "manage"))
    narrowed = clients.update_client(
        person(MEMBER), made.client.client_id, scopes=["jobs", "manage"]
    )
    assert narrowed.scopes == ["jobs", "manage"]
    with pytest.raises(Forbidden):  # but may not add one
        clients.update_client(
            person(MEMBER), made.client.client_id, scopes=["jobs", "manage", "introspect"]
        )


@pytest.mark.parametrize("name", ["pay\x00roll", "pay\troll", "pay\x1broll"])
def test_control_characters_in_a_name_are_refused(ctx, name):
    with pytest.raises(InvalidInput, match="control characters"):
        create(person(ADMIN), name=name, owner=MEMBER)
    assert count() == 0
