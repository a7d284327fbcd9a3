"""Entry point of the ``clearroom`` command. Heavy imports (Django, httpx) happen inside the
commands that need them, so ``clearroom --help`` answers at once."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clearroom.errors import ClearroomError

app = typer.Typer(
    name="clearroom",
    help="Clearroom: an open cybersecurity transparency centre.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    threads: Annotated[int, typer.Option(help="Threads per worker process.")] = 8,
    jobs: Annotated[
        bool, typer.Option(help="Run the embedded job runner in the web process.")
    ] = True,
) -> None:
    """Serve the portal, the API and the embedded job runner until SIGTERM or SIGINT."""
    from clearroom.cli import _django
    from clearroom.cli.serve import serve as run
    from clearroom.cli.stopping import stop_signals

    # Until gunicorn installs its own handlers (it stops gracefully on SIGTERM), a signal
    # aborts the start.
    with stop_signals():
        _django.setup()
        _django.migrate()
        console.print(f"Clearroom at [bold]http://{host}:{port}/[/]")
        run(host=host, port=port, workers=workers, threads=threads, run_jobs=jobs)


@app.command()
def migrate() -> None:
    """Create or update the database schema."""
    from clearroom.cli import _django

    _django.setup()
    _django.migrate(verbosity=1)


@app.command()
def createadmin(
    username: Annotated[str, typer.Option(prompt=True)],
    email: Annotated[str, typer.Option(prompt=True)] = "",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="CLEARROOM_ADMIN_PASSWORD",
        ),
    ] = "",
) -> None:
    """Create a centre operator (a superuser who can use /admin/)."""
    from clearroom.cli import _django

    _django.setup()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from clearroom.server.accounts.models import User

    if User.objects.filter(username=username).exists():
        raise ClearroomError(f"createadmin: a user named {username!r} already exists")
    try:
        validate_password(password)
    except ValidationError as exc:
        raise ClearroomError("createadmin: " + " ".join(exc.messages)) from None
    User.objects.create_superuser(username=username, email=email, password=password)
    console.print(f"Created operator [bold]{username}[/]; sign in at /admin/")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs run at the same time.")] = 1,
) -> None:
    """Run verification jobs (in-process queue or procrastinate, per configuration) until
    SIGTERM or SIGINT: the first lets running jobs finish, a second interrupts them."""
    from clearroom.cli import _django
    from clearroom.cli.stopping import stop_signals

    # The job runners install their own handlers while they run; this one covers the start
    # and is what they hand back to (never an inherited "ignore").
    with stop_signals():
        _django.setup()
        from django.conf import settings

        from clearroom.jobs import run_worker

        console.print(f"Worker started ({settings.CONFIG.jobs_backend} backend); Ctrl-C stops it.")
        run_worker(concurrency=concurrency)


@app.command()
def publish(
    directory: Annotated[Path, typer.Argument(help="Directory whose files form the release.")],
    product: Annotated[str, typer.Option(help="ORG/PRODUCT, e.g. acme/edgerouter-x5.")],
    version: Annotated[str, typer.Option(help="Release version, e.g. 2.4.1.")],
    url: Annotated[
        str, typer.Option(envvar="CLEARROOM_URL", help="The centre's address.")
    ] = "http://127.0.0.1:8000",
    token: Annotated[str, typer.Option(envvar="CLEARROOM_TOKEN", help="API token (clr_…).")] = "",
    confidential: Annotated[
        list[str] | None, typer.Option(help="Glob of file names to mark confidential (repeatable).")
    ] = None,
    notes: Annotated[str, typer.Option(help="Release notes for a new release.")] = "",
    do_publish: Annotated[
        bool, typer.Option("--publish", help="Publish the release after uploading.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    receipts: Annotated[
        Path | None,
        typer.Option(help="Save each logged fact and its receipt (.tlog-proof) in this folder."),
    ] = None,
    sign_with: Annotated[
        Path | None,
        typer.Option(help="Sign the release manifest with this key (PEM) and upload it."),
    ] = None,
) -> None:
    """Upload a release directory (digests declared, streamed) and show what was stored."""
    from clearroom.cli.publish_command import run

    if "/" not in product:
        raise ClearroomError(
            "publish: --product must be ORG/PRODUCT, for example acme/edgerouter-x5"
        )
    if not token:
        raise ClearroomError("publish: give an API token with --token or CLEARROOM_TOKEN")
    org, _, product_slug = product.partition("/")
    run(
        directory,
        url=url,
        token=token,
        org=org,
        product=product_slug,
        version=version,
        confidential=confidential or [],
        notes=notes,
        publish=do_publish,
        as_json=as_json,
        console=console,
        receipts=receipts,
        sign_with=sign_with,
    )


@app.command()
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo keeps its database and artifacts.")
    ] = Path("clearroom-demo"),
    serve_: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after seeding.")] = True,
    witness: Annotated[
        bool, typer.Option(help="Run a witness beside the centre that cosigns its log.")
    ] = True,
) -> None:
    """Start a demo centre on SQLite with a vendor, a product and a published release."""
    # The demo is always the embedded default in its own folder: it must never seed demo
    # sign-ins into a real deployment configured in this shell.
    for name in [n for n in os.environ if n.startswith("CLEARROOM_")]:
        del os.environ[name]
    data_dir = data_dir.resolve()  # the printed commands work from any folder
    os.environ["CLEARROOM_DATA_DIR"] = str(data_dir)
    os.environ["CLEARROOM_BASE_URL"] = f"http://{host}:{port}"
    os.environ.setdefault("CLEARROOM_LOG_FORMAT", "text")
    os.environ.setdefault("CLEARROOM_LOG_LEVEL", "WARNING")
    from clearroom.cli.demo_command import show, start_witness
    from clearroom.cli.stopping import stop_signals

    # Until gunicorn installs its own handlers (it stops gracefully on SIGTERM), a signal
    # aborts the start; the witness is stopped at exit.
    with stop_signals():
        beside = start_witness(data_dir) if witness and serve_ else None
        if beside is not None:
            os.environ["CLEARROOM_TLOG_WITNESSES"] = f"{beside.url} {beside.verifier_key}"
        from clearroom.cli import _django

        _django.setup()
        _django.migrate()
        from clearroom.server.accounts.models import Organisation
        from clearroom.server.attestations.policy import starting_policy
        from clearroom.server.demo import seed

        info = seed()
        policy = data_dir / "demo-policy.toml"
        policy.write_text(starting_policy(Organisation.objects.get(slug=info.vendor)))
        base_url = f"http://{host}:{port}"
        show(info, base_url=base_url, witness=beside, policy=policy, console=console)
        if serve_:
            from clearroom.cli.serve import serve as run

            run(host=host, port=port, workers=1, threads=8, run_jobs=True)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def verify(ctx: typer.Context) -> None:
    """Verify an artifact offline against its release bundle and a trust policy
    (`clearroom verify --help` for the options)."""
    from clearroom.cli.verify import main as run

    raise typer.Exit(run(ctx.args))


@app.command()
def sign(
    directory: Annotated[Path, typer.Argument(help="Directory whose files form the release.")],
    product: Annotated[str, typer.Option(help="ORG/PRODUCT, e.g. acme/edgerouter-x5.")],
    version: Annotated[str, typer.Option(help="Release version, e.g. 2.4.1.")],
    key: Annotated[Path, typer.Option(help="Your private signing key (PEM, mode 0600).")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the signed manifest.")
    ] = Path("manifest.dsse.json"),
    confidential: Annotated[
        list[str] | None, typer.Option(help="Glob of confidential file names, left out.")
    ] = None,
    support_until: Annotated[
        datetime | None, typer.Option(help="End of the security support period.")
    ] = None,
) -> None:
    """Sign the release manifest of a directory on your machine (a DSSE envelope carrying an
    in-toto statement); upload it with the release, or use `publish --sign-with`."""
    from clearroom.cli.sign import sign_command

    if "/" not in product:
        raise ClearroomError("sign: --product must be ORG/PRODUCT, for example acme/edgerouter-x5")
    until = support_until.date() if support_until else None
    sign_command(directory, product, version, key, out, confidential or [], until)


def _register_sub_apps() -> None:
    from clearroom.cli import audit, log, log_tools, sign, vulns, witness

    log_tools.register(log.app)
    app.add_typer(log.app, name="log")
    app.add_typer(witness.app, name="witness", help="Run a C2SP tlog-witness that cosigns logs.")
    app.add_typer(sign.app, name="key")
    app.add_typer(sign.vex_app, name="vex")
    app.add_typer(vulns.sbom_app, name="sbom")
    app.add_typer(vulns.vulns_app, name="vulns")
    app.add_typer(audit.app, name="audit")


_register_sub_apps()


def main() -> None:
    try:
        app()
    except ClearroomError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
