#!/usr/bin/python3
"""A real SMTP server that keeps what it receives, for tests and the local
stack (Debian's python3-aiosmtpd).

Listens on 127.0.0.1 (an ephemeral port unless --port), prints
"PORT <n> PID <pid>" on stdout once it accepts connections (SIGTERM stops it), and writes each message it accepts
to --dir as <n>.eml (the bytes received) and <n>.json (what Python's own
email parser reads from them: envelope, Message-ID, decoded subject, the
plain-text and HTML parts, and each image as <n>-<i>.<ext> with its
Content-ID and, when it is a QR code, what a real reader (zbar-tools'
zbarimg) reads from it), so a test checks the mail as a mail program and a
phone would read it. Recipients at reject.example get 550 (a permanent refusal),
at later.example 451 (try again later); mail to hold.example is kept at
once but answered only after --hold_seconds (a sender can die in between,
as after a relay took a mail and before the sender knew).

Like a mail store, it keeps one copy per Message-ID: a second message with
an id it has kept is accepted and not written again, and noted as a line
{"message_id": ..., "copy_of": n} in duplicates.jsonl, so a test can tell
what reached the mailbox from what crossed the wire. Runs until killed.

  /usr/bin/python3 tests/tools/smtp_capture.py --dir build/test-artifacts/mail
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading

from aiosmtpd.controller import Controller


class Keeper:
    def __init__(self, directory, hold_seconds):
        self.directory = directory
        self.hold_seconds = hold_seconds
        self.count = 0
        self.kept = {}  # Message-ID -> the number of the copy kept
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, options):
        domain = address.rpartition("@")[2].lower()
        if domain == "reject.example":
            return "550 5.1.1 no such mailbox"
        if domain == "later.example":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content,
                                           policy=email.policy.default)
        parts = {}
        images = []
        for part in message.walk():
            kind = part.get_content_type()
            if kind in ("text/plain", "text/html") and kind not in parts:
                parts[kind] = part.get_content()
            elif part.get_content_maintype() == "image":
                images.append(part)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": str(message.get("Message-ID", "")),
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "subject": str(message.get("Subject", "")),
            "content_language": str(message.get("Content-Language", "")),
            "text": parts.get("text/plain", ""),
            "html": parts.get("text/html", ""),
            # Every defect the parser found: the message's, each part's
            # and each header's.
            "defects": [str(d) for part in message.walk()
                        for d in part.defects] +
                       [str(d) for _, value in message.items()
                        for d in getattr(value, "defects", ())],
            "eight_bit": any(b > 127 for b in envelope.content),
            "longest_line": max((len(line) for line in
                                 envelope.content.split(b"\r\n")), default=0),
        }
        message_id = record["message_id"]
        with self.lock:
            copy_of = self.kept.get(message_id) if message_id else None
            if copy_of is None:
                self.count += 1
                n = self.count
                if message_id:
                    self.kept[message_id] = n
        if copy_of is not None:
            with open(os.path.join(self.directory, "duplicates.jsonl"), "a",
                      encoding="utf-8") as f:
                f.write(json.dumps({"message_id": message_id,
                                    "copy_of": copy_of}) + "\n")
        else:
            base = os.path.join(self.directory, f"{n:06d}")
            record["images"] = [read_image(part, f"{base}-{i}")
                                for i, part in enumerate(images)]
            with open(base + ".eml", "wb") as f:
                f.write(envelope.content)
            with open(base + ".json.tmp", "w", encoding="utf-8") as f:
                json.dump(record, f, ensure_ascii=False)
            os.replace(base + ".json.tmp", base + ".json")  # whole or absent
        if any(r.rpartition("@")[2].lower() == "hold.example"
               for r in envelope.rcpt_tos):
            await asyncio.sleep(self.hold_seconds)
        return "250 Message accepted"


def read_image(part, base):
    """Writes an image part beside the mail; returns what a test checks."""
    path = base + "." + part.get_content_subtype()
    with open(path, "wb") as f:
        f.write(part.get_payload(decode=True) or b"")
    qr = ""
    if shutil.which("zbarimg"):
        read = subprocess.run(["zbarimg", "--raw", "-q", path],
                              capture_output=True, text=True, timeout=30)
        qr = read.stdout.strip()
    return {"content_type": part.get_content_type(),
            "content_id": str(part.get("Content-ID", "")).strip("<>"),
            "file": path, "qr": qr}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--hold_seconds", type=float, default=5.0)
    # The local stack's capture server outlives the script that started it.
    parser.add_argument("--detached", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port
    if not port:
        # aiosmtpd checks its server by connecting to the port it was given,
        # so an ephemeral one is chosen first.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    controller = Controller(Keeper(args.dir, args.hold_seconds), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"PORT {port} PID {os.getpid()}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    # Also ends with whoever started it (a test that crashed).
    while not stop.wait(1.0):
        if not args.detached and os.getppid() != parent:
            break
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
