#!/usr/bin/env python3
"""Prepares a copy of a corpus project that gantry and gitlab-ci-local can both process offline.

usage: prepare_tree.py SRC DEST [STUBS]

Copies SRC to DEST (DEST must not exist), edits the copy as below, and makes it a git repository
on `main` (gitlab-ci-local needs one; see the end of main() for its shape). Prints one line per edit.

1. Non-local includes are dropped. gitlab-ci-local cannot fetch `remote`, `template`,
   `component` or `project` includes offline and stops at the first one. Only a top-level
   `include:` key (column 0) is touched, and only whole entries whose first key is one of those
   four (or a string that is an http(s) URL); comments, anchors, tags and every other line stay
   byte for byte. A top-level `include:` whose entries are all dropped goes with them.
   `trigger: include:` inside jobs is left alone: it describes a child pipeline, which neither
   tool lists. A flow-style `include: [...]` that mixes kinds is an error rather than a guess.
2. Continuation lines of multi-line quoted scalars that are not indented past their key are
   indented two more spaces. YAML folds the leading spaces of such lines away, so the value is
   unchanged; GitLab's parser accepts them as they are, gitlab-ci-local's (js-yaml) stops with
   "deficient indentation".
3. STUBS, when given, is a YAML file appended to DEST's `.gitlab-ci.yml`: stand-ins for the
   jobs and templates the dropped includes defined, so that the configuration stays valid
   (see BENCHMARKS.md for why each stub is there).
"""
import os
import re
import shutil
import subprocess
import sys

NON_LOCAL = ("remote", "template", "component", "project")
TOP_INCLUDE = re.compile(r"^include:[ \t]*(?P<rest>.*)$")


def is_non_local(entry_text):
    """Says whether one include entry (text after `- `, or a mapping's first line) is non-local."""
    head = entry_text.strip()
    m = re.match(r"""^["']?([A-Za-z_]+)["']?[ \t]*:(\s|$)""", head)
    if m:
        return m.group(1) in NON_LOCAL
    value = head.strip("'\"")
    return value.startswith(("http://", "https://"))


def indent_of(line):
    return len(line) - len(line.lstrip(" "))


def is_blank_or_comment(line):
    s = line.strip()
    return s == "" or s.startswith("#")


def strip_text(text, path):
    lines = text.splitlines(keepends=True)
    out, dropped = [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = TOP_INCLUDE.match(line.rstrip("\r\n"))
        if not m:
            out.append(line)
            i += 1
            continue
        rest = m.group("rest").split(" #")[0].strip()
        if rest:
            if rest.startswith(("[", "{")):
                if any(re.search(r"\b%s\s*:" % k, rest) for k in NON_LOCAL) or "://" in rest:
                    raise SystemExit(f"{path}: flow-style include with non-local entries; edit it by hand")
                out.append(line)
            elif is_non_local(rest):
                dropped.append(rest)
            else:
                out.append(line)
            i += 1
            continue
        # Block form: the body is every following line that is indented, blank, a comment, or a
        # `- ` item at column 0 (YAML allows a sequence at the same indent as its key).
        j = i + 1
        while j < len(lines):
            body_line = lines[j]
            if is_blank_or_comment(body_line) or indent_of(body_line) > 0 or body_line.startswith("- "):
                if body_line.startswith("---") or body_line.startswith("..."):
                    break
                j += 1
                continue
            break
        # Trailing blank and comment lines belong to what follows, not to the include.
        while j > i + 1 and is_blank_or_comment(lines[j - 1]):
            j -= 1
        body = lines[i + 1:j]
        content = [(k, l) for k, l in enumerate(body) if not is_blank_or_comment(l)]
        if not content:
            out.append(line)
            i += 1
            continue
        first_indent = indent_of(content[0][1])
        if not content[0][1].lstrip(" ").startswith("- "):
            # A single include written as a mapping.
            if is_non_local(content[0][1]):
                dropped.append(content[0][1].strip())
                i = j
            else:
                out.append(line)
                out.extend(body)
                i = j
            continue
        # A sequence: each item runs until the next `- ` at the same indent.
        starts = [k for k, l in content
                  if indent_of(l) == first_indent and l.lstrip(" ").startswith("- ")]
        items = []
        head = body[:starts[0]]
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(body)
            items.append(body[start:end])
        kept = []
        for item in items:
            first = item[0].lstrip(" ")[2:]
            if is_non_local(first):
                dropped.append(first.strip())
            else:
                kept.append(item)
        if kept:
            out.append(line)
            out.extend(head)
            for item in kept:
                out.extend(item)
        i = j
    return "".join(out), dropped


QUOTED_OPEN = re.compile(r"""^(?P<indent> *)(?P<dash>- )?[^\s'"#][^'"#]*?:[ \t]+(?P<quote>['"])(?P<rest>.*)$""")


def closes(rest, quote):
    """Says whether a quoted scalar that continues with `rest` closes on this line."""
    if quote == "'":
        return "'" in rest.replace("''", "")
    return re.search(r'(?<!\\)(?:\\\\)*"', rest) is not None


def reindent_text(text):
    """Indents under-indented continuation lines of multi-line quoted scalars (edit 2)."""
    lines = text.splitlines(keepends=True)
    fixed = 0
    i = 0
    while i < len(lines):
        m = QUOTED_OPEN.match(lines[i].rstrip("\r\n"))
        if not m or closes(m.group("rest"), m.group("quote")):
            i += 1
            continue
        key_indent = len(m.group("indent")) + (2 if m.group("dash") else 0)
        quote = m.group("quote")
        j = i + 1
        while j < len(lines):
            line = lines[j]
            if line.strip() and indent_of(line) <= key_indent:
                lines[j] = " " * (key_indent + 2) + line.lstrip(" ")
                fixed += 1
            if closes(line, quote):
                break
            j += 1
        i = j + 1
    return "".join(lines), fixed


def check_same_yaml(before, after, path):
    """Checks that edit 2 left the parsed documents unchanged, when PyYAML is there to tell."""
    try:
        import yaml
    except ImportError:
        print(f"prepare_tree: {path}: PyYAML missing, edit 2 not double-checked")
        return

    class Loader(yaml.SafeLoader):
        pass

    def any_tag(loader, suffix, node):
        if isinstance(node, yaml.SequenceNode):
            return (suffix, loader.construct_sequence(node))
        return (suffix, str(node.value))

    Loader.add_multi_constructor("!", any_tag)
    try:
        same = list(yaml.load_all(before, Loader)) == list(yaml.load_all(after, Loader))
    except yaml.YAMLError as e:
        print(f"prepare_tree: {path}: PyYAML cannot read it ({str(e).splitlines()[0]}), edit 2 not double-checked")
        return
    if not same:
        raise SystemExit(f"prepare_tree: {path}: re-indenting changed the YAML; fix the script")


def yaml_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            if name.endswith((".yml", ".yaml")):
                yield os.path.join(dirpath, name)


def edit_tree(root):
    """Applies edits 1 and 2 to every YAML file under `root`; returns the number of edits."""
    total = 0
    for path in yaml_files(root):
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        new, dropped = strip_text(text, path) if re.search(r"(?m)^include:", text) else (text, [])
        stripped = new
        new, fixed = reindent_text(stripped)
        if fixed:
            check_same_yaml(stripped, new, path)
        rel = os.path.relpath(path, root)
        for entry in dropped:
            print(f"prepare_tree: {rel}: dropped include {entry}")
        if fixed:
            print(f"prepare_tree: {rel}: indented {fixed} quoted-scalar continuation line(s)")
        if new != text:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(new)
        total += len(dropped) + fixed
    return total


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    src, dest = sys.argv[1], sys.argv[2]
    if os.path.exists(dest):
        raise SystemExit(f"prepare_tree: {dest} exists")
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    total = edit_tree(dest)
    if len(sys.argv) == 4:
        with open(sys.argv[3], encoding="utf-8") as f:
            stubs = f.read()
        with open(os.path.join(dest, ".gitlab-ci.yml"), "a", encoding="utf-8") as f:
            f.write("\n" + stubs)
        print(f"prepare_tree: .gitlab-ci.yml: appended {sys.argv[3]}")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
           "-c", "commit.gpgsign=false"]
    # The tree is the base commit, which origin/main (and origin/HEAD) point at, as after a clone;
    # the pipeline's commit is an empty one on top. So `rules:changes` sees no changed file in
    # both tools: gitlab-ci-local diffs against origin/<default branch>, gantry takes the files
    # the HEAD commit changed.
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "corpus"],
                 ["update-ref", "refs/remotes/origin/main", "HEAD"],
                 ["symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"],
                 ["commit", "-q", "--allow-empty", "-m", "pipeline commit"]):
        subprocess.run(git + args, cwd=dest, check=True)
    print(f"prepare_tree: {dest}: {total} edit(s), committed")


if __name__ == "__main__":
    main()
