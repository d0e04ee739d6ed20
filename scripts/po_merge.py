"""Fill translations into the zh_Hans catalogue from `English ||| 中文` lines.

Usage: python scripts/po_merge.py FILE [FILE...]   (then `make messages` compiles)

Run `make messages` first so every msgid in the code is in the catalogue (single-line,
`--no-wrap`); this fills empty or fuzzy entries whose msgid matches a line exactly, and
appends the ones makemessages did not find (strings built at run time). Existing
non-fuzzy translations are replaced only when they differ, with a warning.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "src/linli/locale/zh_Hans/LC_MESSAGES/django.po"


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def unquote(lines: list[str]) -> str:
    """The string of a msgid/msgstr whose quoted parts are these lines."""
    parts = [re.match(r'^(?:msgid|msgstr|msgctxt)?\s*"(.*)"$', ln).group(1) for ln in lines]  # type: ignore[union-attr]
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def main(files: list[str]) -> None:
    pairs: dict[str, str] = {}
    for name in files:
        for line in Path(name).read_text(encoding="utf-8").splitlines():
            if "|||" in line:
                en, zh = (x.strip() for x in line.split("|||", 1))
                if en and zh:
                    pairs[en] = zh
    blocks = PO.read_text(encoding="utf-8").split("\n\n")
    done: set[str] = set()
    out = []
    for block in blocks:
        lines = block.split("\n")
        ids = [i for i, ln in enumerate(lines) if ln.startswith("msgid ")]
        strs = [i for i, ln in enumerate(lines) if ln.startswith("msgstr ")]
        if not ids or not strs or any(ln.startswith("msgid_plural") for ln in lines):
            out.append(block)
            continue
        msgid = unquote(lines[ids[0]:strs[0]])
        if msgid in pairs and msgid:
            current = unquote(lines[strs[0]:])
            fuzzy = any(ln.startswith("#,") and "fuzzy" in ln for ln in lines)
            if current and not fuzzy and current != pairs[msgid]:
                print(f"replacing: {msgid!r}: {current!r} -> {pairs[msgid]!r}")
            head = []
            for ln in lines[:strs[0]]:
                if ln.startswith("#,") and "fuzzy" in ln:
                    flags = [f.strip() for f in ln[2:].split(",") if f.strip() != "fuzzy"]
                    if flags:
                        head.append("#, " + ", ".join(flags))
                elif ln.startswith("#|"):
                    continue
                else:
                    head.append(ln)
            block = "\n".join([*head, f'msgstr "{escape(pairs[msgid])}"'])
            done.add(msgid)
        out.append(block)
    text = "\n\n".join(out).rstrip("\n") + "\n"
    for en, zh in pairs.items():
        if en not in done:
            flag = "#, python-format\n" if "%(" in en else ""
            text += f'\n{flag}msgid "{escape(en)}"\nmsgstr "{escape(zh)}"\n'
            print(f"appended (not found in the code by makemessages): {en!r}")
    PO.write_text(text, encoding="utf-8")
    print(f"{len(done)} filled, {len(pairs) - len(done)} appended")


if __name__ == "__main__":
    main(sys.argv[1:])
