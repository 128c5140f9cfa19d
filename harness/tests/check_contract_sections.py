#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# check_contract_sections.py - the suite's rule against false alarms, checked over the
# scenario files: every must-level expectation names the contract section it rests on.
#
# A must breaks an endpoint's verdict, so it has to follow from a rule of the contract
# that the sources support. "contract" (on the expectation, its step or the scenario, the
# nearest one counting) names the sections; a must without one fails here. A section 8
# rule is the reference's own choice where the sources are silent, and the contract has
# the suite check those at must level only as a status class: a must that rests on
# section 8 alone may therefore check nothing but the status class (and the error form).
#
# Usage: check_contract_sections.py DIR                 exit 0 when every file keeps the rule
#        check_contract_sections.py --expect N DIR      exit 0 when exactly N expectations
#                                                       break it (the check's own test)
import json
import os
import re
import sys

SECTIONS = re.compile(r"^(1b?|2b?|[3-9])(, (1b?|2b?|[3-9]))*$")
STATUS_CLASS = re.compile(r"^[1-5]xx$")
# What a must resting on section 8 alone may hold besides its status class.
SECTION_8_KEYS = {"status", "error_form", "note", "source", "level", "contract"}


def is_status_class(status):
    if isinstance(status, list):
        return all(is_status_class(s) for s in status)
    return isinstance(status, str) and (STATUS_CLASS.match(status) or status == "closed")


def groups(expect):
    if expect is None:
        return []
    return expect if isinstance(expect, list) else [expect]


def check_must(where, contract, group, problems):
    if contract is None:
        problems.append(where + ": a must-level expectation names no contract section")
        return
    if not isinstance(contract, str) or not SECTIONS.match(contract):
        problems.append(where + ": contract %r is not a list of sections" % (contract,))
        return
    if contract.split(", ") != ["8"] or group is None:
        return
    extra = sorted(set(group) - SECTION_8_KEYS)
    if extra or "status" not in group or not is_status_class(group["status"]):
        problems.append(
            where
            + ": rests on section 8 alone (the reference's choice), so must checks only a "
            "status class; the rest belongs at should"
        )


def check_steps(path, steps, scenario_contract, prefix, problems):
    for i, step in enumerate(steps):
        name = step.get("name", "step-%d" % (i + 1))
        where = "%s: %s[%d] '%s'" % (path, prefix, i, name)
        level = step.get("level", "must")
        contract = step.get("contract", scenario_contract)
        for j, group in enumerate(groups(step.get("expect"))):
            if group.get("level", level) == "must":
                check_must("%s expect[%d]" % (where, j), group.get("contract", contract), group,
                           problems)
        if "wait" in step and level == "must":
            check_must(where + " (wait)", contract, None, problems)
        if "outcomes" in step and level == "must":
            check_must(where + " (outcomes)", contract, None, problems)


def check_dir(root):
    problems = []
    files = 0
    for dirpath, _, names in sorted(os.walk(root)):
        for n in sorted(names):
            if not n.endswith(".json"):
                continue
            path = os.path.join(dirpath, n)
            with open(path, encoding="utf-8") as f:
                scenario = json.load(f)
            files += 1
            check_steps(os.path.relpath(path, root), scenario.get("steps", []),
                        scenario.get("contract"), "steps", problems)
    return files, problems


def main(argv):
    expect = None
    if len(argv) == 4 and argv[1] == "--expect":
        expect = int(argv[2])
        root = argv[3]
    elif len(argv) == 2:
        root = argv[1]
    else:
        sys.stderr.write(__doc__ if __doc__ else "usage: check_contract_sections.py [--expect N] DIR\n")
        return 2
    files, problems = check_dir(root)
    for p in problems:
        print(p)
    if files == 0:
        print("no scenario files under " + root)
        return 1
    if expect is not None:
        print("%d files, %d breaking the rule (expected %d)" % (files, len(problems), expect))
        return 0 if len(problems) == expect else 1
    print("%d files, %d must-level expectations without a contract section or resting on "
          "section 8 beyond a status class" % (files, len(problems)))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
