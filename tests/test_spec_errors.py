"""The bad-spec corpus: each case is a small project whose specs are wrong in one way.

Every case runs the real command line (`eventgen validate` through
`generator.cli.main`) on a temporary project and asserts the exit code, every
`path:line:col: message` line printed, and that no file was touched. Lines and
columns are 1-based and were counted by hand from the YAML below.
"""

from __future__ import annotations

import textwrap
from dataclasses import astuple, dataclass, field
from pathlib import Path

import pytest
from support.cli import eventgen
from support.tree import snapshot

from generator.spec import yaml_source

# A valid spec every case starts from. Line numbers of interest:
#   1 name   3 rooms   4 feature:   5 pattern   6 access   8 events
#   9 first event (name at col 11)  10 direction  11 action  12 room  13 payload  14 feature_id
BASE = """\
name: feature
description: Live updates for features.
rooms:
  feature:
    pattern: "feature:{feature_id}"
    access: authenticated
events:
  - name: feature:subscribe
    direction: client_to_server
    action: join
    room: feature
    payload:
      feature_id: str
"""

UPDATED = """\
  - name: feature:updated
    direction: server_to_client
    room: feature
    payload:
      feature_id: str
"""


def spec(text: str) -> str:
    return textwrap.dedent(text)


@dataclass
class Case:
    id: str
    files: dict[str, str | bytes]
    expected: list[str]
    extra: dict[str, str] = field(default_factory=dict)


def base_plus(events: str) -> str:
    """BASE followed by more events, written flush left in the test for readability."""
    return BASE + textwrap.indent(textwrap.dedent(events), "  ")


def keys(text: str) -> str:
    """Keys of the last event, written flush left in the test for readability."""
    return textwrap.indent(textwrap.dedent(text), "    ")


CASES = [
    # -- YAML itself ---------------------------------------------------------------
    Case(
        "yaml-syntax-unclosed-flow",
        {"feature.yaml": "name: feature\nevents: [\n"},
        [
            "events/feature.yaml:3:1: YAML syntax error: expected the node content, but found '<stream end>' (while parsing a flow node)"
        ],
    ),
    Case(
        "yaml-syntax-bad-indent",
        {"feature.yaml": "name: feature\n  events: x\n"},
        ["events/feature.yaml:2:9: YAML syntax error: mapping values are not allowed here"],
    ),
    Case(
        "yaml-tab-indent",
        {"feature.yaml": "name: feature\n\tevents: []\n"},
        [
            "events/feature.yaml:2:1: YAML syntax error: found character '\\t' that cannot start any token (while scanning for the next token)"
        ],
    ),
    Case(
        "two-documents",
        {"feature.yaml": BASE + "---\nname: other\n"},
        ["events/feature.yaml:14:1: a spec is a single YAML document: remove the second '---' and what follows"],
    ),
    Case(
        "duplicate-key",
        {"feature.yaml": BASE.replace("    room: feature\n", "    room: feature\n    room: other\n")},
        ["events/feature.yaml:12:5: duplicate key 'room' (first defined at line 11)"],
    ),
    Case(
        "yaml11-on-key",
        {"feature.yaml": BASE + "on: connect\n"},
        [
            "events/feature.yaml:14:1: ambiguous key 'on': YAML 1.1 reads it as a boolean; quote it ('on') for text, or write true/false"
        ],
    ),
    Case(
        "yaml11-no-value",
        {"feature.yaml": BASE.replace("feature_id: str", "feature_id: {type: str, required: no}")},
        [
            "events/feature.yaml:13:41: ambiguous value 'no': YAML 1.1 reads it as a boolean; quote it ('no') for text, or write true/false"
        ],
    ),
    Case(
        "yaml11-yes-value",
        {
            "feature.yaml": base_plus("""\
          - name: feature:ping
            direction: server_to_client
            broadcast: yes
        """)
        },
        [
            "events/feature.yaml:16:16: ambiguous value 'yes': YAML 1.1 reads it as a boolean; quote it ('yes') for text, or write true/false"
        ],
    ),
    Case(
        "yaml11-base60",
        {"feature.yaml": BASE + "      delay: {type: int, default: 1:30}\n"},
        [
            "events/feature.yaml:14:35: ambiguous value '1:30': YAML 1.1 reads it as a base-60 number (90); quote it ('1:30') for text"
        ],
    ),
    Case(
        "merge-key",
        {"feature.yaml": BASE.replace("    access: authenticated\n", "    <<: {access: authenticated}\n")},
        [
            # The merged keys are not read, so the room also lacks its access.
            (
                "events/feature.yaml:4:3: rooms.feature: room 'feature:{feature_id}' needs 'access' "
                "(authenticated, self or pkg.module:func), or 'owner: app' when the app puts sockets in it; only user:{...} rooms default to self"
            ),
            "events/feature.yaml:6:5: YAML merge keys ('<<') are not supported in specs; write the keys out",
        ],
    ),
    Case(
        "python-tag",
        {
            "feature.yaml": BASE.replace(
                "description: Live updates for features.", "description: !!python/name:os.system x"
            )
        },
        [
            "events/feature.yaml:2:14: YAML tag 'tag:yaml.org,2002:python/name:os.system' is not allowed in specs; remove it"
        ],
    ),
    Case(
        "self-referencing-alias",
        {"feature.yaml": BASE.replace("description: Live updates for features.", "description: &d [*d]")},
        ["events/feature.yaml:2:14: a YAML alias refers to a value that contains it; write the value out"],
    ),
    Case(
        "nul-character",
        {"feature.yaml": BASE.replace("Live updates", "Live\x00updates")},
        ["events/feature.yaml:2:18: character U+0000 is not allowed in YAML; remove it"],
    ),
    Case(
        "not-utf8",
        {"feature.yaml": BASE.replace("Live updates", "Caf\xe9 updates").encode("latin-1")},
        ["events/feature.yaml:2:17: the spec is not valid UTF-8 (byte 0xe9); save it as UTF-8"],
    ),
    Case(
        "empty-file",
        {"feature.yaml": ""},
        ["events/feature.yaml:1:1: the spec is empty: it needs at least 'name' and 'events'"],
    ),
    Case(
        "only-comments",
        {"feature.yaml": "# todo\n"},
        ["events/feature.yaml:1:1: the spec is empty: it needs at least 'name' and 'events'"],
    ),
    Case(
        "list-instead-of-mapping",
        {"feature.yaml": "- name: feature\n- events: []\n"},
        ["events/feature.yaml:1:1: a spec must be a mapping with 'name' and 'events', not a list"],
    ),
    Case(
        "non-string-key",
        {"feature.yaml": BASE + "      1: str\n"},
        ["events/feature.yaml:14:7: mapping keys must be strings; quote '1'"],
    ),
    # -- the spec's shape ---------------------------------------------------------
    Case(
        "unknown-top-level-key",
        {"feature.yaml": BASE + "colour: red\n"},
        [
            "events/feature.yaml:14:1: unknown top-level key 'colour'; allowed here: version, name, description, rooms, events"
        ],
    ),
    Case(
        "unknown-event-key",
        {"feature.yaml": BASE.replace("    action: join\n", "    action: join\n    hanlder: x\n")},
        ["events/feature.yaml:11:5: events[0]: unknown key 'hanlder' (did you mean 'handler'?)"],
    ),
    Case(
        "unknown-field-key",
        {"feature.yaml": BASE.replace("feature_id: str", "feature_id: {type: str, maxlen: 3}")},
        ["events/feature.yaml:13:31: events[0].payload.feature_id: unknown key 'maxlen' (did you mean 'max_length'?)"],
    ),
    Case(
        "unknown-room-key",
        {"feature.yaml": BASE.replace("    access: authenticated\n", "    access: authenticated\n    colour: red\n")},
        [
            "events/feature.yaml:7:5: rooms.feature: unknown key 'colour'; allowed here: pattern, access, owner, delivery, history, presence, presence_ttl_s"
        ],
    ),
    Case(
        "history-without-sequenced",
        {
            "feature.yaml": BASE.replace(
                "    access: authenticated\n", "    access: authenticated\n    history: {size: 10, ttl_s: 60}\n"
            )
        },
        ["events/feature.yaml:7:5: rooms.feature.history: 'history' is for rooms with 'delivery: sequenced'"],
    ),
    Case(
        "sequenced-reserved-names",
        {
            "feature.yaml": BASE.replace(
                "    access: authenticated\n", "    access: authenticated\n    delivery: sequenced\n"
            ).replace("      feature_id: str\n", "      feature_id: str\n      since: dict\n")
            + UPDATED
            + "      seq: int\n      epoch: str\n"
        },
        [
            "events/feature.yaml:15:7: events[0].payload.since: payload field 'since' is reserved here; room 'feature' is sequenced: its join takes 'since: {epoch, seq}' to recover missed events",
            "events/feature.yaml:21:7: events[1].payload.seq: payload field 'seq' is reserved here; room 'feature' is sequenced: the server adds 'seq' and 'epoch' to every message",
            "events/feature.yaml:22:7: events[1].payload.epoch: payload field 'epoch' is reserved here; room 'feature' is sequenced: the server adds 'seq' and 'epoch' to every message",
        ],
    ),
    Case(
        "history-size-zero",
        {
            "feature.yaml": BASE.replace(
                "    access: authenticated\n",
                "    access: authenticated\n    delivery: sequenced\n    history: {size: 0}\n",
            )
        },
        ["events/feature.yaml:8:21: rooms.feature.history.size: must be 1 or more, got 0"],
    ),
    Case(
        "wrong-type-room-list",
        {"feature.yaml": BASE.replace("    room: feature\n", "    room: [feature]\n")},
        ["events/feature.yaml:11:11: events[0].room: expected a string, got a list"],
    ),
    Case(
        "wrong-type-quoted-bool",
        {
            "feature.yaml": base_plus("""\
          - name: feature:ping
            direction: server_to_client
            broadcast: "true"
        """)
        },
        ["events/feature.yaml:16:16: events[1].broadcast: expected true or false, got the string 'true'"],
    ),
    Case(
        "wrong-type-date",
        {"feature.yaml": BASE.replace("description: Live updates for features.", "description: 2024-01-01")},
        ["events/feature.yaml:2:14: description: expected a string, got the date 2024-01-01 (quote it for text)"],
    ),
    Case(
        "field-is-a-number",
        {"feature.yaml": BASE + "      count: 5\n"},
        [
            "events/feature.yaml:14:14: events[0].payload.count: expected a type such as 'str' or a mapping with 'type', got 5"
        ],
    ),
    Case(
        "missing-direction",
        {"feature.yaml": BASE.replace("    direction: client_to_server\n", "")},
        ["events/feature.yaml:8:5: events[0]: missing required key 'direction'"],
    ),
    Case(
        "missing-events",
        {"feature.yaml": "name: feature\n"},
        ["events/feature.yaml:1:1: missing required top-level key 'events'"],
    ),
    Case(
        "no-events",
        {"feature.yaml": "name: feature\nevents: []\n"},
        ["events/feature.yaml:2:9: events: a spec needs at least one event"],
    ),
    Case(
        "bad-direction",
        {"feature.yaml": BASE.replace("direction: client_to_server", "direction: up")},
        [
            "events/feature.yaml:9:16: events[0].direction: must be 'client_to_server' or 'server_to_client', got the string 'up'"
        ],
    ),
    Case(
        "bad-version",
        {"feature.yaml": "version: 2\n" + BASE},
        ["events/feature.yaml:1:10: version: must be 1, got 2"],
    ),
    # -- types and constraints ------------------------------------------------------
    Case(
        "bad-type-word",
        {"feature.yaml": BASE + "      tags: lst[str]\n"},
        [
            (
                "events/feature.yaml:14:13: events[0].payload.tags.type: invalid type 'lst[str]': unknown type 'lst' "
                "(use str, int, float, bool, dict, list, any, list[T], dict[str, T], T | None)"
            )
        ],
    ),
    Case(
        "bad-type-dict-key",
        {"feature.yaml": BASE + "      tags: 'dict[int, str]'\n"},
        [
            "events/feature.yaml:14:13: events[0].payload.tags.type: invalid type 'dict[int, str]': dict keys must be str (JSON objects have string keys)"
        ],
    ),
    Case(
        "bad-type-union",
        {"feature.yaml": BASE + "      tags: str | int\n"},
        [
            "events/feature.yaml:14:13: events[0].payload.tags.type: invalid type 'str | int': a union must be 'T | None' (a type or null)"
        ],
    ),
    Case(
        "max-length-on-int",
        {"feature.yaml": BASE + "      count: {type: int, max_length: 3}\n"},
        [
            "events/feature.yaml:14:26: events[0].payload.count.max_length: 'max_length' applies to str, list and dict fields, not int"
        ],
    ),
    Case(
        "ge-on-str",
        {"feature.yaml": BASE + "      label: {type: str, ge: 1}\n"},
        ["events/feature.yaml:14:26: events[0].payload.label.ge: 'ge' applies to int and float fields, not str"],
    ),
    Case(
        "min-greater-than-max",
        {"feature.yaml": BASE + "      label: {type: str, min_length: 5, max_length: 3}\n"},
        [
            "events/feature.yaml:14:38: events[0].payload.label.min_length: min_length (5) is greater than max_length (3)"
        ],
    ),
    Case(
        "ge-greater-than-le",
        {"feature.yaml": BASE + "      count: {type: int, ge: 5, le: 3}\n"},
        ["events/feature.yaml:14:30: events[0].payload.count.ge: ge (5) is greater than le (3)"],
    ),
    Case(
        "negative-min-length",
        {"feature.yaml": BASE + "      label: {type: str, min_length: -1}\n"},
        ["events/feature.yaml:14:38: events[0].payload.label.min_length: must be 0 or more, got -1"],
    ),
    Case(
        "enum-values-of-wrong-type",
        {"feature.yaml": BASE + "      count: {type: int, enum: [a, 2, true]}\n"},
        [
            "events/feature.yaml:14:33: events[0].payload.count.enum[0]: enum value 'a' is not an integer",
            "events/feature.yaml:14:39: events[0].payload.count.enum[2]: enum value true is not an integer",
        ],
    ),
    Case(
        "default-of-wrong-type",
        {"feature.yaml": BASE + "      count: {type: int, default: many}\n      label: {type: str, default: null}\n"},
        [
            "events/feature.yaml:14:35: events[0].payload.count.default: default 'many' is not an integer",
            "events/feature.yaml:15:35: events[0].payload.label.default: default null is not a string (write 'str | None' to allow null)",
        ],
    ),
    Case(
        "default-and-required",
        {"feature.yaml": BASE + "      count: {type: int, default: 1, required: true}\n"},
        [
            "events/feature.yaml:14:48: events[0].payload.count.required: a field with a default is optional: drop 'required: true' or the default"
        ],
    ),
    # -- rooms and access -----------------------------------------------------------
    Case(
        "bad-room-param",
        {"feature.yaml": BASE.replace("feature:{feature_id}", "feature:{feature-id}")},
        ["events/feature.yaml:5:14: rooms.feature.pattern: room parameter {feature-id} must be a Python identifier"],
    ),
    Case(
        "unbalanced-braces",
        {"feature.yaml": BASE.replace("feature:{feature_id}", "feature:{feature_id")},
        [
            "events/feature.yaml:5:14: rooms.feature.pattern: room pattern 'feature:{feature_id' has an unbalanced '{' or '}'"
        ],
    ),
    Case(
        "room-param-not-in-payload",
        {"feature.yaml": BASE.replace("feature_id: str", "id: str")},
        [
            "events/feature.yaml:12:5: event 'feature:subscribe' uses room 'feature' (feature:{feature_id}) but its payload has no field 'feature_id'"
        ],
    ),
    Case(
        "room-param-of-wrong-type",
        {"feature.yaml": BASE.replace("feature_id: str", "feature_id: dict")},
        [
            "events/feature.yaml:13:19: event 'feature:subscribe': room parameter 'feature_id' must be a required str or int field, not dict"
        ],
    ),
    Case(
        "unknown-room",
        {"feature.yaml": BASE.replace("    room: feature\n", "    room: features\n")},
        ["events/feature.yaml:11:11: event 'feature:subscribe': unknown room 'features' (rooms: feature)"],
    ),
    Case(
        "missing-access",
        {"feature.yaml": BASE.replace("    access: authenticated\n", "")},
        [
            (
                "events/feature.yaml:4:3: rooms.feature: room 'feature:{feature_id}' needs 'access' "
                "(authenticated, self or pkg.module:func), or 'owner: app' when the app puts sockets in it; only user:{...} rooms default to self"
            )
        ],
    ),
    Case(
        "bad-access-form",
        {"feature.yaml": BASE.replace("access: authenticated", "access: open_webui.access.can_read")},
        [
            "events/feature.yaml:6:13: rooms.feature.access: access 'open_webui.access.can_read' must be 'authenticated', 'self' or 'pkg.module:func'"
        ],
    ),
    Case(
        "self-access-needs-one-param",
        {
            "feature.yaml": BASE.replace("feature:{feature_id}", "feature:{feature_id}:{user_id}").replace(
                "access: authenticated", "access: self"
            )
        },
        [
            "events/feature.yaml:6:13: rooms.feature.access: access 'self' needs a pattern with exactly one {param}, compared with the user's id"
        ],
    ),
    Case(
        "room-key-not-snake-case",
        {"feature.yaml": BASE.replace("  feature:\n", "  Feature:\n")},
        [
            "events/feature.yaml:4:3: rooms.Feature: room key 'Feature' must be snake_case (lowercase letters, digits and '_')"
        ],
    ),
    # -- names ------------------------------------------------------------------------
    Case(
        "reserved-event-name",
        {"feature.yaml": BASE.replace("name: feature:subscribe", "name: connect")},
        ["events/feature.yaml:8:11: events[0].name: 'connect' is reserved by Socket.IO; choose another event name"],
    ),
    Case(
        "bad-event-name",
        {"feature.yaml": BASE.replace("name: feature:subscribe", "name: feature subscribe")},
        [
            (
                "events/feature.yaml:8:11: events[0].name: 'feature subscribe' is not a valid event name: "
                "start with a letter; use letters, digits, '_', '.', ':' or '-' (64 characters at most)"
            )
        ],
    ),
    Case(
        "spec-name-not-file-name",
        {"feature.yaml": BASE.replace("name: feature\n", "name: features\n", 1)},
        ["events/feature.yaml:1:7: spec name 'features' must match its file name 'feature'"],
    ),
    Case(
        "spec-name-not-snake-case",
        {"Feature.yaml": BASE.replace("name: feature\n", "name: Feature\n", 1)},
        [
            "events/Feature.yaml:1:7: name: 'Feature' must be snake_case: a lowercase letter, then lowercase letters, digits or '_' (63 characters at most)"
        ],
    ),
    Case(
        "field-name-with-dash",
        {"feature.yaml": BASE + "      feature-name: str\n"},
        [
            "events/feature.yaml:14:7: events[0].payload.feature-name: payload field 'feature-name' is not a Python identifier (letters, digits and '_', not starting with a digit)"
        ],
    ),
    Case(
        "field-name-keyword",
        {"feature.yaml": BASE + "      class: str\n"},
        [
            "events/feature.yaml:14:7: events[0].payload.class: payload field 'class' is a Python keyword; choose another name"
        ],
    ),
    Case(
        "field-name-reserved-by-pydantic",
        {"feature.yaml": BASE + "      model_config: str\n"},
        [
            "events/feature.yaml:14:7: events[0].payload.model_config: payload field 'model_config' may not start with '_' or 'model_' (reserved by pydantic)"
        ],
    ),
    Case(
        "helper-not-identifier",
        {"feature.yaml": BASE + UPDATED + "    emit: {helper: 2notify}\n"},
        [
            "events/feature.yaml:19:20: events[1].emit.helper: '2notify' is not a Python identifier (letters, digits and '_', not starting with a digit)"
        ],
    ),
    Case(
        "helper-keyword",
        {"feature.yaml": BASE + UPDATED + "    emit: {helper: lambda}\n"},
        [
            "events/feature.yaml:19:20: events[1].emit.helper: helper 'lambda' must be a public Python identifier (not a keyword, no leading underscore)"
        ],
    ),
    Case(
        "listener-not-pascal-case",
        {"feature.yaml": BASE + UPDATED + "    listener: featureUpdates\n"},
        [
            "events/feature.yaml:19:15: events[1].listener: 'featureUpdates' is not a component name: PascalCase, letters and digits, starting with an uppercase letter"
        ],
    ),
    Case(
        "bad-handler-reference",
        {
            "feature.yaml": base_plus("""\
          - name: feature:rename
            direction: client_to_server
            action: handle
            handler: rename_feature
        """)
        },
        [
            "events/feature.yaml:17:14: events[1].handler: 'rename_feature' is not a callable reference: write pkg.module:func"
        ],
    ),
    # -- rules between keys -------------------------------------------------------------
    Case(
        "emit-on-client-event",
        {"feature.yaml": BASE.replace("    room: feature\n", "    room: feature\n    emit: {helper: notify}\n", 1)},
        ["events/feature.yaml:12:5: events[0].emit: 'emit' is only for server_to_client events"],
    ),
    Case(
        "action-on-server-event",
        {"feature.yaml": BASE + UPDATED.replace("    room: feature\n", "    action: join\n    room: feature\n")},
        ["events/feature.yaml:16:5: events[1].action: 'action' is only for client_to_server events"],
    ),
    Case(
        "client-event-without-action",
        {"feature.yaml": BASE.replace("    action: join\n", "")},
        [
            "events/feature.yaml:8:5: events[0]: a client_to_server event needs an 'action' (join, leave, relay or handle)"
        ],
    ),
    Case(
        "handle-without-handler",
        {
            "feature.yaml": base_plus("""\
          - name: feature:rename
            direction: client_to_server
            action: handle
        """)
        },
        ["events/feature.yaml:16:13: events[1].action: action 'handle' needs a 'handler' (pkg.module:func)"],
    ),
    Case(
        "server-event-without-room",
        {"feature.yaml": BASE + UPDATED.replace("    room: feature\n", "")},
        ["events/feature.yaml:14:5: events[1]: a server_to_client event needs a 'room' or 'broadcast: true'"],
    ),
    Case(
        "relay-payload-with-user",
        {
            "feature.yaml": base_plus("""\
          - name: feature:typing
            direction: client_to_server
            action: relay
            room: feature
            payload: {feature_id: str, user: str}
        """)
        },
        [
            "events/feature.yaml:18:32: events[1].payload.user: a relay payload may not have a field 'user': the server adds the sender there"
        ],
    ),
    Case(
        "listener-without-join",
        {"feature.yaml": BASE.replace("action: join", "action: leave") + UPDATED + "    listener: FeatureUpdates\n"},
        [
            "events/feature.yaml:19:15: listener 'FeatureUpdates' needs a join event for room 'feature' in this spec, to subscribe with"
        ],
    ),
    Case(
        "emit-arg-not-in-payload",
        {
            "feature.yaml": BASE
            + UPDATED
            + keys("""\
                emit:
                  helper: notify_feature_update
                  from:
                    - file: backend/open_webui/routers/features.py
                      function: update_feature
                      after: Features.update_feature
                      args: {feature_id: feature_id, colour: "'red'"}
            """)
        },
        ["events/feature.yaml:25:42: event 'feature:updated': argument 'colour' is not a payload field"],
    ),
    Case(
        "emit-arg-not-python",
        {
            "feature.yaml": BASE
            + UPDATED
            + keys("""\
                emit:
                  helper: notify_feature_update
                  from:
                    - file: /srv/app/routers/features.py
                      function: update_feature
                      after: Features.update_feature
                      args: {feature_id: "feature_id("}
            """)
        },
        [
            "events/feature.yaml:22:17: events[1].emit.from[0].file: file '/srv/app/routers/features.py' must be relative to the project root",
            "events/feature.yaml:25:30: events[1].emit.from[0].args.feature_id: argument 'feature_id': 'feature_id(' is not a Python expression ('(' was never closed)",
        ],
    ),
    Case(
        "emit-keys-misspelled",
        {
            "feature.yaml": BASE
            + UPDATED
            + keys("""\
                emit:
                  helpr: notify_feature_update
                  from:
                    - file: backend/open_webui/routers/features.py
                      function: update_feature
                      aftr: Features.update_feature
            """)
        },
        [
            "events/feature.yaml:19:5: events[1].emit: missing required key 'helper'",
            "events/feature.yaml:20:7: events[1].emit: unknown key 'helpr' (did you mean 'helper'?)",
            "events/feature.yaml:24:11: events[1].emit.from[0]: unknown key 'aftr' (did you mean 'after'?)",
        ],
    ),
    # -- across files -------------------------------------------------------------------
    Case(
        "duplicate-event-across-files",
        {
            "feature.yaml": BASE,
            "other.yaml": BASE.replace("name: feature\n", "name: other\n", 1),
        },
        [
            "events/other.yaml:5:14: room 'feature' (feature:{feature_id}) can build the same names as room 'feature' (feature:{feature_id}) at events/feature.yaml:5: a socket let into one would receive the other's events",
            "events/other.yaml:8:11: event name 'feature:subscribe' is already used at events/feature.yaml:8",
        ],
    ),
    Case(
        "duplicate-helper-across-files",
        {
            "feature.yaml": BASE + UPDATED + "    emit: {helper: notify}\n",
            "other.yaml": spec("""\
                name: other
                events:
                  - name: other:updated
                    direction: server_to_client
                    broadcast: true
                    emit: {helper: notify}
            """),
        },
        ["events/other.yaml:6:20: emit helper 'notify' is already used at events/feature.yaml:19"],
    ),
    Case(
        "event-names-colliding-as-identifiers",
        {"feature.yaml": BASE + UPDATED + UPDATED.replace("feature:updated", "feature-updated")},
        ["events/feature.yaml:19:11: payload model name 'FeatureUpdated' is already used at events/feature.yaml:14"],
    ),
    # -- several problems in one run: all reported, sorted by file, line, column ---------
    Case(
        "every-error-at-once-sorted",
        {
            "b.yaml": "name: b\nevents: [\n",
            "a.yaml": spec("""\
                name: a
                colour: red
                events:
                  - name: a:ping
                    direction: server_to_client
                    payload: {count: {type: int, max_length: 2}}
                    broadcast: true
                  - name: a:pong
                    direction: server_to_client
                    broadcast: true
                    action: join
            """),
        },
        [
            "events/a.yaml:2:1: unknown top-level key 'colour'; allowed here: version, name, description, rooms, events",
            "events/a.yaml:6:34: events[0].payload.count.max_length: 'max_length' applies to str, list and dict fields, not int",
            "events/a.yaml:11:5: events[1].action: 'action' is only for client_to_server events",
            "events/b.yaml:3:1: YAML syntax error: expected the node content, but found '<stream end>' (while parsing a flow node)",
        ],
    ),
]


@pytest.fixture(params=["libyaml", "pure-python"])
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways specs are parsed: libyaml when installed, PyYAML's own parser otherwise."""
    if request.param == "libyaml":
        if yaml_source._FAST_LOADER is None:
            pytest.skip("PyYAML was built without libyaml")
    else:
        monkeypatch.setattr(yaml_source, "_FAST_LOADER", None)
    return request.param


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec(case: Case, yaml_parser: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events"
    events.mkdir()
    for name, text in case.files.items():
        (events / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    before = snapshot(tmp_path)

    code, out, err = astuple(eventgen(tmp_path, "validate"))
    assert code == 2, out + err
    assert out == ""
    assert err.splitlines() == case.expected
    assert snapshot(tmp_path) == before


def test_corpus_is_large_and_every_base_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The fragments the cases are cut from are valid on their own, so each case fails for its one reason."""
    assert len(CASES) >= 25
    events = tmp_path / "events"
    events.mkdir()
    (events / "feature.yaml").write_text(BASE + UPDATED + "    emit: {helper: notify}\n    listener: FeatureUpdates\n")
    assert eventgen(tmp_path, "validate").stdout == "eventgen: 1 spec(s), 2 event(s): valid\n"
