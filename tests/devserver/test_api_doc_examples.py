"""Every curl example of docs/api.md runs as written against `make run`'s demo.

Each ```sh block of the guide is one bash script, run as a developer would paste it, against
the live demo server (tests/devserver/conftest.py), from a scratch directory that holds
`.venv` and `manage.py` (the publishing examples run `manage.py create_api_key`). Only the
base URL `http://127.0.0.1:8000` is replaced by the test server's. The variables the guide
says to keep from earlier steps are set: `$API`, `$TOKEN` and `$OLD_TOKEN` (devices registered
for this block, personalization accepted), `$KEY` (a key of the city's organization).

A `curl` on the path records, for each call, its arguments, status and body. The guide's
comments are the expectations of the call before them:

- `# 201 {"id": 812, "token": "qd_…"}`: the status, then the response's top-level keys (the
  JSON may elide values with `…`); a comment `# {"count", "next", …}` gives keys only;
- a call with no documented status must answer 200 (304 for a conditional request); a JSON
  body must parse, iCalendar must be a VCALENDAR, XML must parse.

A block preceded by `<!-- doc-test: skip … -->` (with its reason) is not run: only the App
Check example, which needs a deployment that requires App Check.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from tests.devserver.conftest import ROOT, DemoServer

pytestmark = pytest.mark.slow

GUIDE = ROOT / "docs" / "api.md"
DOC_BASE = "http://127.0.0.1:8000"
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```sh\n(?P<code>.*?)^```", re.S | re.M)
SKIP = re.compile(r"<!-- doc-test: skip (?P<reason>.+?) -->")
CALL = re.compile(r"(?<![\w/.-])curl\s")
STATUS_COMMENT = re.compile(r"^#\s*(?P<status>[1-5]\d\d)\b(?P<rest>.*)$")
TRAILING_STATUS = re.compile(r"\s#\s*(?P<status>[1-5]\d\d)\b(?P<rest>.*)$")
REAL_CURL = shutil.which("curl") or "/usr/bin/curl"

CURL_WRAPPER = f"""#!/usr/bin/env bash
# Records each call of a documented example: arguments, response headers, body.
n=$(( $(cat "$DOCTEST_DIR/count" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$DOCTEST_DIR/count"
printf '%s\\0' "$@" > "$DOCTEST_DIR/args.$n"
set -o pipefail
{REAL_CURL} --max-time 30 -D "$DOCTEST_DIR/headers.$n" "$@" | tee "$DOCTEST_DIR/body.$n"
"""


@dataclass
class Expected:
    line: int
    status: int | None = None
    keys: list[str] | None = None
    shape_text: str = ""
    collecting: bool = field(default=False, repr=False)


@dataclass
class Example:
    line: int
    code: str
    calls: list[Expected]
    skip: str | None

    @property
    def id(self) -> str:
        return f"api.md:{self.line}"


def top_level_keys(text: str) -> list[str]:
    """The keys of the outermost object of a documented (possibly elided) JSON answer."""
    keys, depth, index, previous = [], 0, 0, ""
    while index < len(text):
        char = text[index]
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                break
        elif char == '"':
            end = text.index('"', index + 1)
            # A key opens the object or follows a comma; a value follows a colon.
            if depth == 1 and previous in ("{", ","):
                keys.append(text[index + 1 : end])
            index = end
        if not char.isspace():
            previous = char
        index += 1
    return keys


def balanced(text: str) -> bool:
    return text.count("{") + text.count("[") <= text.count("}") + text.count("]")


def parse_guide() -> list[Example]:
    text = GUIDE.read_text()
    examples = []
    for match in BLOCK.finditer(text):
        first_line = text[: match.start("code")].count("\n") + 1
        skip = SKIP.search(match["before"])
        calls: list[Expected] = []
        for offset, raw in enumerate(match["code"].splitlines()):
            line = raw.strip()
            current = calls[-1] if calls else None
            if line.startswith("#"):
                if current is None:
                    continue
                if current.collecting:
                    current.shape_text += line.lstrip("#")
                    current.collecting = not balanced(current.shape_text)
                    continue
                status = STATUS_COMMENT.match(line)
                rest = status["rest"] if status else line.lstrip("# ")
                if status and current.status is None:
                    current.status = int(status["status"])
                if (status or rest.startswith("{")) and current.keys is None:
                    brace = rest.find("{")
                    if brace != -1 and rest[:brace].strip(" ;") == "":
                        current.shape_text = rest[brace:]
                        current.collecting = not balanced(current.shape_text)
                        current.keys = []
                continue
            if current is not None:
                current.collecting = False
            for _ in CALL.finditer(line.split(" # ")[0] if " # " in line else line):
                calls.append(Expected(line=first_line + offset))
            trailing = TRAILING_STATUS.search(line)
            if trailing and calls:
                calls[-1].status = int(trailing["status"])
        for call in calls:
            if call.keys is not None:
                call.keys = top_level_keys(call.shape_text)
        if calls:
            examples.append(Example(first_line, match["code"], calls, skip and skip["reason"]))
    return examples


EXAMPLES = parse_guide()


def test_the_guide_has_its_examples():
    calls = sum(len(example.calls) for example in EXAMPLES)
    assert calls >= 60, calls
    skipped = [example for example in EXAMPLES if example.skip]
    assert len(skipped) <= 1, [example.id for example in skipped]
    # The parser reads the guide's conventions: a status and its keys, keys alone.
    registration = next(
        e for e in EXAMPLES if "transfer_code" not in e.code and "/devices/" in e.code
    )
    assert registration.calls[0].status == 201
    assert registration.calls[0].keys == ["id", "token"]


def register(server: DemoServer) -> str:
    api = f"{server.url()}/api/v1"
    token = httpx.post(f"{api}/devices/", json={"platform": "android"}).json()["token"]
    consent = httpx.patch(
        f"{api}/me/",
        json={"personalization_consent": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert consent.status_code == 200
    return token


@pytest.fixture(scope="module")
def api_key(demo_server: DemoServer) -> str:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "create_api_key", "ville-de-lyonnay"],
        cwd=ROOT,
        env=demo_server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@dataclass
class Call:
    args: list[str]
    status: int
    headers: str
    body: bytes


def recorded_calls(directory: Path) -> list[Call]:
    count = int((directory / "count").read_text()) if (directory / "count").exists() else 0
    calls = []
    for n in range(1, count + 1):
        headers = (directory / f"headers.{n}").read_text(errors="replace")
        statuses = re.findall(r"^HTTP/\S+ (\d{3})", headers, re.M)
        calls.append(
            Call(
                args=(directory / f"args.{n}").read_text().split("\0")[:-1],
                status=int(statuses[-1]) if statuses else 0,
                headers=headers,
                body=(directory / f"body.{n}").read_bytes(),
            )
        )
    return calls


def check_body(call: Call, expected: Expected) -> None:
    shows_headers = any(re.fullmatch(r"-[a-zA-Z]*i[a-zA-Z]*", arg) for arg in call.args)
    # With -o the body went to a file; with -w the output ends with the write-out text.
    elsewhere = {"-o", "--output", "-w", "--write-out"} & set(call.args)
    if shows_headers or elsewhere or not call.body.strip() or call.status in (204, 304):
        return
    content_type = re.findall(r"^content-type:\s*([^;\r\n]+)", call.headers, re.I | re.M)[-1]
    if "json" in content_type:
        body = json.loads(call.body)
        if expected.keys:
            assert isinstance(body, dict), body
            missing = set(expected.keys) - set(body)
            assert not missing, f"documented keys missing from the answer: {missing}: {body}"
    elif "calendar" in content_type:
        assert call.body.startswith(b"BEGIN:VCALENDAR"), call.body[:200]
    elif "xml" in content_type:
        ElementTree.fromstring(call.body)
    elif "yaml" in content_type:
        assert call.body.startswith(b"openapi:"), call.body[:200]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.id)
def test_the_example_runs_as_written(example: Example, demo_server, api_key, tmp_path):
    if example.skip:
        pytest.skip(example.skip)
    workdir, record = tmp_path / "work", tmp_path / "record"
    workdir.mkdir()
    record.mkdir()
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    (workdir / "manage.py").symlink_to(ROOT / "manage.py")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "curl"
    wrapper.write_text(CURL_WRAPPER)
    wrapper.chmod(0o755)
    base = demo_server.url()
    env = {
        **demo_server.env,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "DOCTEST_DIR": str(record),
        "API": f"{base}/api/v1",
        "TOKEN": register(demo_server),
        "OLD_TOKEN": register(demo_server),
        "KEY": api_key,
    }
    script = example.code.replace(DOC_BASE, base)
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=workdir,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    output = result.stdout.decode(errors="replace")[-2000:]
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr.decode()}\n{output}"
    calls = recorded_calls(record)
    assert len(calls) == len(example.calls), f"ran {len(calls)} curl calls:\n{output}"
    for call, expected in zip(calls, example.calls, strict=True):
        conditional = any(arg.lower().startswith("if-none-match") for arg in call.args)
        status = expected.status or (304 if conditional else 200)
        where = f"api.md:{expected.line} ({' '.join(call.args)[:200]})"
        assert call.status == status, f"{where}: {call.status}\n{call.body[:600]!r}"
        check_body(call, expected)
    for written in (workdir / name for name in ("quartier-openapi.yaml", "agenda.ics")):
        if written.exists():
            assert written.stat().st_size > 0
