"""Setting up one block: a fresh Gatehouse environment and every server, always stopped after.

The Gatehouse servers of all kinds in a block share one environment (one
database, one key, the same clients), as instances of one deployment do.
"""

from __future__ import annotations

import argparse
import urllib.parse
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench import client, kinds, load, peer, servers
from bench.environment import Credentials, Database, Environment
from bench.report import Row
from bench.rounds import BARE, SIGNED, Block, Contender, Group, progress

BASELINE_BODY = client.GRANT_FORM
# Gatehouse's token request names its scope, as the peer's does (RFC 6749 §3.3)
TOKEN_BODY = client.GRANT_FORM + "&scope=jobs"


def _introspection(
    path: Path,
    token_url: str,
    introspect_url: str,
    holder: Credentials,
    caller: Credentials,
    form: str,
) -> Callable[[], Path]:
    """A function writing a script that introspects a freshly issued token, checked active.

    A fresh token per run: the peer's opaque tokens live 300 s in an LRU store.
    """

    def write() -> Path:
        token = client.fetch_token(token_url, holder, form)
        client.check_introspection(introspect_url, caller, token)
        body = "token=" + urllib.parse.quote(token, safe="") + "&token_type_hint=access_token"
        return load.write_script(path, body, client.basic(caller))

    return write


def _peer_group(stack: ExitStack, folder: Path, home: Path) -> Group:
    progress("starting oidc-provider (first use: npm install)")
    running = stack.enter_context(peer.running(servers.free_port(), home / "peer.log", folder))
    scripts = {
        "/token": load.write_script(
            home / "peer-token.lua", peer.JWT_FORM, client.basic(running.client)
        )
    }
    client.fetch_token(running.token_url, running.client, peer.JWT_FORM)  # answers at all
    member = Contender(
        server="oidc-provider (RS256)",
        role="peer",
        pid=running.pid,
        urls={"/token": running.token_url, "/introspect": running.introspect_url},
        scripts=scripts,
        introspection=_introspection(
            home / "peer-introspect.lua",
            running.token_url,
            running.introspect_url,
            running.client,
            running.client,
            peer.OPAQUE_FORM,
        ),
    )
    member.introspection()  # fail now if its introspection does not work
    return Group([member])


def _kind_group(
    stack: ExitStack,
    args: argparse.Namespace,
    kind: kinds.Kind,
    env: Environment,
    home: Path,
) -> Group:
    """Bare Flask and Gatehouse on KIND, both started and ready."""
    slug = kind.name
    base_port, port = servers.free_port(), servers.free_port()
    progress(f"starting bare Flask and Gatehouse on {kind.label}")
    baseline = stack.enter_context(
        servers.serving(
            f"baseline-{slug}",
            kind.command(kinds.BASELINE, base_port, args.workers),
            base_port,
            home,
            lambda: client.answers(client.url(base_port, "/"), BASELINE_BODY),
            cwd=home,
        )
    )
    if args.kinds:  # comparing servers: launched directly, like the baseline
        command = kind.command(kinds.GATEHOUSE, port, args.workers)
    else:
        command = kinds.serve_command(port, args.workers, args.server)
    gatehouse = stack.enter_context(
        servers.serving(
            f"gatehouse-{slug}",
            command,
            port,
            home,
            lambda: client.answers(client.url(port, "/readyz")),
            env=env.env,
            cwd=env.home,
        )
    )
    assert env.client and env.introspector
    token_url, introspect_url = client.url(port, "/token"), client.url(port, "/introspect")
    client.fetch_token(token_url, env.client, TOKEN_BODY)  # answers, and grants that scope
    gh = Contender(
        server=kind.label,
        role="gatehouse",
        pid=gatehouse.pid,
        urls={"/token": token_url, "/introspect": introspect_url},
        scripts={
            "/token": load.write_script(
                home / f"token-{slug}.lua", TOKEN_BODY, client.basic(env.client)
            )
        },
        introspection=_introspection(
            home / f"introspect-{slug}.lua",
            token_url,
            introspect_url,
            env.client,
            env.introspector,
            TOKEN_BODY,
        ),
    )
    gh.introspection()
    bare_script = load.write_script(home / "baseline.lua", BASELINE_BODY, None)
    bare = Contender(
        server=kind.label,
        role="baseline",
        pid=baseline.pid,
        urls={BARE: client.url(base_port, "/")},
        scripts={"/token": bare_script, "/introspect": bare_script},
    )
    if env.alg != "RS256":
        return Group([bare, gh])
    signed = Contender(
        server=kind.label,
        role="signed",
        pid=baseline.pid,
        urls={SIGNED: client.url(base_port, "/sign")},
        scripts={"/token": bare_script},  # the same request, to another path
        rounds=("/token",),
    )
    return Group([bare, signed, gh])


def run_block(
    args: argparse.Namespace,
    database: Database,
    alg: str,
    chosen: list[kinds.Kind],
    peer_folder: Path | None,
    tmp: Path,
    notes: list[str],
) -> list[Row]:
    """Every server of the block up, the rounds, every server down; the block's rows."""
    home = tmp / f"{database.label}-{alg}"
    home.mkdir()
    progress(f"{database.label}/{alg}: gatehouse init, clients")
    try:
        with ExitStack() as stack:
            env = Environment(home / "gatehouse", database, alg, servers.free_port())
            env.prepare()
            groups = [_peer_group(stack, peer_folder, home)] if peer_folder else []
            groups += [_kind_group(stack, args, kind, env, home) for kind in chosen]
            block = Block(args, database.label, alg, groups)
            rows = block.run()
            notes += block.notes
            return rows
    finally:
        database.drop()
