"""Checks an evidence pack with nothing but Python (3.9+) and its standard library.

Shipped inside every pack as `verify.py` (docs/evidence.md). Run it in the unzipped folder
(`python verify.py`) or on the zip (`python verify.py pack.zip`). It checks:

- every file's SHA-256 and size against manifest.json, no file missing and none added, and
  the manifest's own digest (a changed byte anywhere in it is caught);
- every audit event's hash, recomputed from its fields exactly as the application hashes
  them: HMAC-SHA256 with the chain key over "<canonical JSON>|<seq>|<prev_hash>" (plain
  SHA-256 for events before the keyed cut-over), so an event's link to the previous one is
  part of what is hashed; and where two events follow each other, that the later one's
  prev_hash is the earlier one's hash;
- every anchor named: its MAC, and that the event at the anchor's seq, reached link by link
  from the deal's event, has the anchored hash.

The chain is keyed (the key lives outside the database, so nobody who can only write rows can
recompute hashes): give the key as the environment variable AUDIT_CHAIN_KEY or with
`--key-file PATH`. Without it the keyed hashes and the anchors' MACs are not recomputed, and
the verdict says so. Prints OK or every problem found; exit code 0 (OK) or 1 (problems).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import io
import json
import os
import sys
import zipfile
from pathlib import Path

MANIFEST = "manifest.json"
EVENTS = "audit/events.json"
ANCHORS = "audit/anchors.json"
FORMAT = "dealdesk-evidence/1"
# Left out of the file list: the list itself, and what unpacking tools add.
IGNORED = ("__MACOSX/", "__pycache__/")


def canonical_json(value) -> str:
    # audit/chain.py's canonical serialization: sorted keys, no spaces, UTF-8 as is.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def manifest_digest(manifest: dict) -> str:
    rest = {name: value for name, value in manifest.items() if name != "manifest_digest"}
    return hashlib.sha256(canonical_json(rest).encode("utf-8")).hexdigest()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"dealdesk-audit-chain-key-id|" + key).hexdigest()[:16]


def event_hash(fields: dict, prev_hash: str, key: bytes | None) -> str:
    content = canonical_json({name: value for name, value in fields.items() if name != "seq"})
    message = f"{content}|{fields['seq']}|{prev_hash}".encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def anchor_mac(anchor: dict, key: bytes) -> str:
    message = f"audit-chain-anchor|{anchor['seq']}|{anchor['hash']}|{anchor['anchored_at']}"
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


class Pack:
    """The pack's files by path, from a folder or a zip."""

    def __init__(self, where: Path) -> None:
        self.files: dict[str, bytes] = {}
        if where.is_file():
            with zipfile.ZipFile(io.BytesIO(where.read_bytes())) as archive:
                for name in archive.namelist():
                    if not name.endswith("/"):
                        self.files[name] = archive.read(name)
        else:
            for path in sorted(where.rglob("*")):
                name = path.relative_to(where).as_posix()
                if path.is_file() and not name.startswith(".") and "/." not in name:
                    self.files[name] = path.read_bytes()


def check_files(pack: Pack, manifest: dict, problems: list) -> None:
    if manifest.get("format") != FORMAT:
        problems.append(f"{MANIFEST}: format is {manifest.get('format')!r}, not {FORMAT}")
    if manifest.get("manifest_digest") != manifest_digest(manifest):
        problems.append(f"{MANIFEST}: changed (its digest does not match its content)")
    listed = set()
    for entry in manifest.get("files", []):
        path = entry["path"]
        listed.add(path)
        content = pack.files.get(path)
        if content is None:
            problems.append(f"{path}: missing")
            continue
        if len(content) != entry["size"]:
            problems.append(f"{path}: {len(content)} bytes, the manifest says {entry['size']}")
        if hashlib.sha256(content).hexdigest() != entry["sha256"]:
            problems.append(f"{path}: SHA-256 differs from the manifest (the file was changed)")
    for path in sorted(set(pack.files) - listed - {MANIFEST}):
        if not path.startswith(IGNORED):
            problems.append(f"{path}: not listed in the manifest")


def check_events(pack: Pack, manifest: dict, key: bytes | None, problems: list) -> list[str]:
    """Problems go to `problems`; what could not be checked without the key is returned."""
    chain = manifest["chain"]
    events = json.loads(pack.files[EVENTS])["events"]
    anchors = {a["seq"]: a for a in json.loads(pack.files[ANCHORS])["anchors"]}
    if key is not None and key_id(key) != chain["key_id"]:
        problems.append("the key given is not the chain's key (its key id differs)")
        return []
    unchecked = 0
    by_seq = {}
    for event in events:
        fields, seq = event["fields"], event["fields"]["seq"]
        by_seq[seq] = event
        keyed = seq >= chain["hmac_from_seq"]
        if keyed and key is None:
            unchecked += 1
        elif event_hash(fields, event["prev_hash"], key if keyed else None) != event["hash"]:
            problems.append(f"event {seq}: its hash does not match its fields (altered)")
        previous = by_seq.get(seq - 1)
        if previous is not None and event["prev_hash"] != previous["hash"]:
            problems.append(f"event {seq}: prev_hash is not event {seq - 1}'s hash")
    deal_seqs = [e["fields"]["seq"] for e in events if e["of_this_deal"]]
    if deal_seqs != manifest["deal_event_seqs"]:
        problems.append(f"{EVENTS}: the deal's events are not the ones the manifest lists")
    notes = [f"{unchecked} keyed event hash(es) not recomputed"] if unchecked else []
    unchecked_macs = check_anchors(events, by_seq, anchors, key, problems)
    if unchecked_macs:
        notes.append(f"{unchecked_macs} anchor MAC(s) not checked")
    return notes


def check_anchors(events: list, by_seq: dict, anchors: dict, key, problems: list) -> int:
    unchecked = 0
    for anchor in anchors.values():
        if key is None:
            unchecked += 1
        elif not hmac.compare_digest(anchor["mac"], anchor_mac(anchor, key)):
            problems.append(f"anchor {anchor['seq']}: its MAC does not verify (forged)")
    for event in events:
        seq, anchor_seq = event["fields"]["seq"], event.get("anchor_seq")
        if not event["of_this_deal"] or anchor_seq is None:
            continue
        anchor = anchors.get(anchor_seq)
        if anchor is None:
            problems.append(f"event {seq}: its anchor {anchor_seq} is not in {ANCHORS}")
            continue
        gap = next((s for s in range(seq, anchor_seq + 1) if s not in by_seq), None)
        if gap is not None:
            if not event.get("segment_omitted"):
                problems.append(
                    f"event {seq}: event {gap} on the way to anchor {anchor_seq} is missing"
                )
        elif by_seq[anchor_seq]["hash"] != anchor["hash"]:
            problems.append(
                f"event {seq}: anchor {anchor_seq}'s hash is not the chain's hash there"
            )
    return unchecked


def read_key(key_file: str | None) -> bytes | None:
    if key_file:
        return Path(key_file).read_bytes().strip()
    key = os.environ.get("AUDIT_CHAIN_KEY", "")
    return key.encode("utf-8") if key else None


def verify(where: Path, key: bytes | None) -> tuple[list[str], list[str]]:
    """(problems, notes on what could not be checked)."""
    pack = Pack(where)
    if MANIFEST not in pack.files:
        return [f"{MANIFEST}: missing"], []
    try:
        manifest = json.loads(pack.files[MANIFEST])
    except ValueError as exc:
        return [f"{MANIFEST}: not JSON ({exc})"], []
    problems: list[str] = []
    check_files(pack, manifest, problems)
    try:
        notes = check_events(pack, manifest, key, problems)
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"{EVENTS} or {ANCHORS}: unreadable ({exc!r})")
        notes = []
    return problems, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Dealdesk evidence pack offline.")
    parser.add_argument("pack", nargs="?", default=".", help="the unzipped folder or the zip")
    parser.add_argument("--key-file", help="a file holding the audit chain key")
    args = parser.parse_args(argv)
    problems, notes = verify(Path(args.pack), read_key(args.key_file))
    if problems:
        print(f"PROBLEMS ({len(problems)}):")
        for problem in problems:
            print(f"- {problem}")
        return 1
    if notes:
        print(f"OK, but without the chain key: {'; '.join(notes)} (set AUDIT_CHAIN_KEY).")
    else:
        print("OK: every file, event hash, link and anchor verifies.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
