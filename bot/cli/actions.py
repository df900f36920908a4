"""The ``onboard`` commands that maintain: ``crm`` (load, sync), ``flows`` and ``locales``
(argument parsing lives in :mod:`bot.cli.main`; the serving commands in :mod:`bot.cli.serve`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.app import App, build_app
from bot.config import Settings
from bot.maint.locales import compile_catalogs, extract_template, update_catalogs
from dialogs.errors import ConfigError, FlowLoadError, OnboardError
from dialogs.flow import FlowRegistry
from dialogs.i18n import Catalogs
from dialogs.steps.privacy import missing_notice
from storage.crm_import import load_crm
from storage.crm_sync import sync as sync_crm

log = logging.getLogger(__name__)


async def crm_load(
    settings: Settings, path: Path, *, mapping: Path | None = None, dry_run: bool = False
) -> int:
    app = await build_app(settings)
    try:
        return await load_records(app, path, quiet=False, mapping=mapping, dry_run=dry_run)
    finally:
        await app.close()


async def load_records(
    app: App, path: Path, *, quiet: bool, mapping: Path | None = None, dry_run: bool = False
) -> int:
    report = await load_crm(app.db, path, mapping=mapping, dry_run=dry_run)
    for error in report.errors:
        print(f"{path}:{error.line}: {error.reason}")
    if dry_run:
        print(
            f"{path}: {report.loaded} would load, {len(report.errors)} rejected"
            " (dry run: nothing was changed)"
        )
    elif not quiet or report.errors:
        print(f"{path}: {report.loaded} loaded, {len(report.errors)} rejected")
    return 1 if report.errors else 0


async def crm_sync(settings: Settings, *, full: bool = False) -> int:
    """Pull the CRM's changes into the local copy (storage/crm_sync.py)."""
    if not settings.crm_lookup_url:
        raise ConfigError("crm sync needs CRM_LOOKUP_URL (and CRM_LOOKUP_TOKEN): the CRM's API")
    app = await build_app(settings)
    try:
        assert app.crm is not None  # noqa: S101 - built whenever CRM_LOOKUP_URL is set
        report = await sync_crm(app.db, app.crm, full=full)
    finally:
        await app.close()
    for error in report.errors:
        print(f"changes:{error.line}: {error.reason}")
    print(
        f"crm sync: {report.upserted} updated, {report.deactivated} deactivated, "
        f"{len(report.errors)} rejected ({report.pages} pages; cursor {report.cursor})"
    )
    return 1 if report.errors else 0


def flows(action: str) -> int:
    catalogs = Catalogs()
    try:
        registry = FlowRegistry.from_directory(known_messages=catalogs.template_ids)
    except FlowLoadError as exc:
        print(f"error: {exc}")
        return 1
    for flow in registry:
        if action == "list":
            print(f"{flow.id}\t{flow.language}\t{len(flow.steps)} steps\t{flow.title}")
    if action == "check":
        unnoticed = [(flow, missing_notice(flow)) for flow in registry]
        for flow, steps in unnoticed:
            for step in steps:
                print(
                    f"error: {flow.source}, step {step!r}: collects personal data before any "
                    "privacy_notice step"
                )
        if any(steps for _, steps in unnoticed):
            return 1
        print(f"{len(registry)} flows OK")
    return 0


def locales(action: str, *, drop_obsolete: bool = False, directory: Path | None = None) -> int:
    if action == "check":
        return locales_check(directory)
    if action == "extract":
        print(f"wrote {extract_template()}")
    elif action == "update":
        for path in update_catalogs(drop_obsolete=drop_obsolete):
            print(f"updated {path}")
    else:
        for path in compile_catalogs():
            print(f"compiled {path}")
    return 0


def locales_check(directory: Path | None) -> int:
    try:
        from bot.maint.catalog_check import check_catalogs  # noqa: PLC0415 - maintainers' tool
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"onboard locales check needs the maintainers' tools ({exc.name} is missing): "
            "pip install -e '.[maint]', or make test, which installs them"
        ) from None

    problems = check_catalogs(locales=directory)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems" if problems else "catalogs OK")
    return 1 if problems else 0


def flows_draw(flow_id: str, fmt: str, output: Path | None) -> int:
    from bot.maint.flow_graph import flow_graph  # noqa: PLC0415 - maintainers' tool
    from bot.maint.mermaid import to_mermaid  # noqa: PLC0415
    from bot.maint.svg import to_svg  # noqa: PLC0415

    flow = FlowRegistry.from_directory().get(flow_id)
    if flow is None:
        known = ", ".join(flow.id for flow in FlowRegistry.from_directory())
        raise ConfigError(f"unknown flow {flow_id!r}: use one of {known}")
    graph = flow_graph(flow)
    text = to_svg(graph) if fmt == "svg" else to_mermaid(graph)
    if output is None:
        print(text, end="")
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OnboardError(f"cannot write {output}: {exc.strerror or exc}") from None
        print(f"wrote {output}")
    return 0


def flows_docs() -> int:
    from bot.maint.flow_docs import write_docs  # noqa: PLC0415 - maintainers' tool

    root = Path(__file__).resolve().parents[2]
    for path in write_docs(root, FlowRegistry.from_directory()):
        print(f"wrote {path}")
    return 0
