"""Frontend layouts beyond SvelteKit (issue 18): a plain Vite + Svelte app gets relative imports
only, and generated files left behind by a moved `types` or `components` are found by their
generated header, reported by `check` and removed by `generate`."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

import pytest
from support.cli import run_cli
from support.project import make_project
from support.specs import FEATURE_SPEC
from support.tree import snapshot, write

from generator.config import Config
from generator.plan.frontend.listeners import events_import, store_import
from generator.plan.frontend.version import is_sveltekit
from generator.sources import Sources

COMPONENT = "src/lib/components/realtime/FeatureUpdates.svelte"
TYPES = "src/lib/socket/events.ts"

PLAIN_PACKAGE = {
    "name": "plain-vite-app",
    "private": True,
    "type": "module",
    "devDependencies": {
        "@sveltejs/vite-plugin-svelte": "^5.0.0",
        "svelte": "^5.0.0",
        "vite": "^6.0.0",
        "socket.io-client": "^4.8.0",
    },
}
# What `npm create vite -- --template svelte-ts` writes: a svelte.config.js that is not SvelteKit's.
VITE_SVELTE_CONFIG = "import { vitePreprocess } from '@sveltejs/vite-plugin-svelte'\n\nexport default {\n  preprocess: vitePreprocess(),\n}\n"
KIT_SVELTE_CONFIG = "import adapter from '@sveltejs/adapter-auto';\n\nexport default { kit: { adapter: adapter() } };\n"
STORE = "import { writable } from 'svelte/store';\nimport type { Socket } from 'socket.io-client';\n\nexport const socket = writable<Socket | null>(null);\n"


def _plain_vite_app(root: Path) -> Path:
    make_project(root, specs={"feature": FEATURE_SPEC}, frontend=False)
    write(root, "package.json", json.dumps(PLAIN_PACKAGE, indent=2) + "\n")
    write(root, "svelte.config.js", VITE_SVELTE_CONFIG)
    write(root, "src/lib/stores/index.ts", STORE)
    return root


def _imports(text: str) -> list[str]:
    return re.findall(r"""\bfrom\s+["']([^"']+)["']""", text)


def _resolves(importer: Path, spec: str) -> bool:
    base = (importer.parent / spec).resolve()
    return any(p.is_file() for p in (base.with_name(base.name + ".ts"), base / "index.ts", base))


# -- telling SvelteKit from plain Svelte ---------------------------------------------------


@pytest.mark.parametrize(
    ("files", "kit"),
    [
        ({"package.json": json.dumps({"devDependencies": {"@sveltejs/kit": "^2.0.0", "svelte": "^5.0.0"}})}, True),
        (
            {"package.json": json.dumps({"dependencies": {"svelte": "^4.2.0"}}), "svelte.config.js": KIT_SVELTE_CONFIG},
            True,
        ),
        ({"svelte.config.mjs": KIT_SVELTE_CONFIG}, True),  # no package.json beside the components: the config tells
        ({"package.json": json.dumps(PLAIN_PACKAGE), "svelte.config.js": VITE_SVELTE_CONFIG}, False),
        ({"package.json": json.dumps(PLAIN_PACKAGE)}, False),
        ({}, False),  # nothing to read: relative imports work in every layout
        ({"package.json": "{not json"}, False),  # reported where the Svelte major is read
        ({"web/package.json": json.dumps({"devDependencies": {"@sveltejs/kit": "2"}})}, False),  # another app's
    ],
    ids=[
        "kit-dependency",
        "kit-config",
        "kit-config-no-package",
        "vite-template",
        "vite-no-config",
        "nothing",
        "broken-json",
        "other-folder",
    ],
)
def test_sveltekit_is_detected_from_the_dependency_or_a_kit_config(
    tmp_path: Path, files: dict[str, str], kit: bool
) -> None:
    for rel, text in files.items():
        write(tmp_path, rel, text)
    assert is_sveltekit(Config(root=tmp_path), Sources(tmp_path)) is kit


@pytest.mark.parametrize(
    ("store", "components", "folder", "kit", "expected"),
    [
        ("$lib/stores", "src/lib/components/realtime", "", True, "$lib/stores"),
        ("$lib/stores", "src/lib/components/realtime", "", False, "../../stores"),
        ("$lib/stores/socket", "web/src/components", "web", False, "../lib/stores/socket"),
        ("$lib", "src/components", "", False, "../lib"),
        ("../stores", "src/components", "", False, "../stores"),  # already relative: as written
        ("@/stores", "src/components", "", False, "@/stores"),  # the app's own alias: as written
    ],
)
def test_store_import_outside_sveltekit_is_relative(
    store: str, components: str, folder: str, kit: bool, expected: str
) -> None:
    config = Config(root=Path("/nowhere"), store_import=store, components=components)
    assert store_import(config, folder, kit) == expected


def test_types_import_outside_sveltekit_is_relative() -> None:
    config = Config(root=Path("/nowhere"))
    assert events_import(config, "", True) == "$lib/socket/events"
    assert events_import(config, "", False) == "../../socket/events"


# -- a plain Vite + Svelte app ---------------------------------------------------------------


def test_a_plain_vite_app_gets_only_relative_imports_that_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _plain_vite_app(tmp_path / "app")
    run = run_cli("-C", str(root), "generate")
    assert run.exit == 0, run.stderr
    generated = [root / COMPONENT, root / TYPES]
    for file in generated:
        text = file.read_text()
        assert "$lib" not in text, file
        for spec in _imports(text):
            if spec.startswith("."):
                assert _resolves(file, spec), (file, spec)
    assert _imports((root / COMPONENT).read_text())[2:] == [
        "../../stores",
        "../../socket/events",
        "../../socket/events",
    ]
    assert run_cli("-C", str(root), "check").exit == 0


@pytest.mark.node
def test_a_plain_vite_app_builds_without_any_alias(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The generated listener bundled by Vite with no `$lib` alias configured, as a plain app is."""
    from support.frontend import link_node_modules, vite_build

    root = _plain_vite_app(tmp_path / "app")
    assert run_cli("-C", str(root), "generate").exit == 0
    write(
        root,
        "index.html",
        '<!doctype html>\n<html><body><div id="app"></div><script type="module" src="/src/main.ts"></script></body></html>\n',
    )
    write(
        root,
        "src/main.ts",
        "import { mount } from 'svelte';\nimport FeatureUpdates from './lib/components/realtime/FeatureUpdates.svelte';\n\n"
        "mount(FeatureUpdates, { target: document.getElementById('app')!, props: { featureId: 'f1' } });\n",
    )
    link_node_modules(root)
    assert vite_build(root, tmp_path / "dist", alias={}) == []
    assert any(p.suffix == ".js" for p in (tmp_path / "dist").rglob("*"))


# -- generated files left behind by a moved configuration -------------------------------------


@pytest.mark.parametrize(
    ("setting", "old", "new"),
    [
        ('types = "src/lib/types/events.ts"', TYPES, "src/lib/types/events.ts"),
        ('components = "src/lib/realtime"', COMPONENT, "src/lib/realtime/FeatureUpdates.svelte"),
    ],
    ids=["types", "components"],
)
def test_files_left_behind_by_a_moved_setting_are_reported_then_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, old: str, new: str
) -> None:
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC})
    assert run_cli("-C", str(root), "generate").exit == 0
    assert (root / old).is_file()
    write(root, "eventgen.toml", setting + "\n")
    before = snapshot(root)
    check = run_cli("-C", str(root), "check", "--no-diff")
    assert check.exit == 1
    assert (
        f"orphaned (1): run `eventgen generate` to remove it (no spec generates it here any more)\n  {old}: generated file (left behind: the configuration puts generated files elsewhere now)\n"
        in check.stdout
    )
    assert f"missing (1): run `eventgen generate`\n  {new}: generated file\n" in check.stdout
    assert snapshot(root) == before
    generate = run_cli("-C", str(root), "generate")
    assert generate.exit == 0, generate.stderr
    assert (
        f"{old}: removed orphan: generated file (left behind: the configuration puts generated files elsewhere now)"
        in generate.stdout
    )
    assert not (root / old).exists() and (root / new).is_file()
    assert not (root / PurePosixPath(old).parent).exists()  # the folder eventgen made, now empty
    assert run_cli("-C", str(root), "check").exit == 0


def test_a_left_behind_file_edited_by_hand_is_a_conflict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC})
    assert run_cli("-C", str(root), "generate").exit == 0
    (root / TYPES).write_text((root / TYPES).read_text() + "export const mine = 1;\n")
    write(root, "eventgen.toml", 'types = "src/lib/types/events.ts"\n')
    before = snapshot(root)
    run = run_cli("-C", str(root), "generate")
    assert (
        run.exit == 1
        and f"{TYPES}:1: conflict (edited by hand): generated file (left behind: the configuration puts generated files elsewhere now)"
        in run.stdout
    )
    assert snapshot(root) == before


def test_generated_files_that_are_not_this_projects_are_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC})
    # A nested project with generated code of its own, and a file generated from another specs folder.
    nested = make_project(root / "tools" / "other", specs={"feature": FEATURE_SPEC})
    write(nested, "eventgen.toml", "")
    assert run_cli("-C", str(nested), "generate").exit == 0
    assert run_cli("-C", str(root), "generate").exit == 0
    foreign = (root / TYPES).read_text().replace("from events/feature.yaml", "from specs/feature.yaml", 1)
    write(root, "vendor/copied/events.ts", foreign)
    assert "generated by eventgen from specs/feature.yaml" in foreign.splitlines()[0]
    before = snapshot(root)
    assert run_cli("-C", str(root), "check").exit == 0
    assert run_cli("-C", str(root), "generate").exit == 0
    assert snapshot(root) == before
