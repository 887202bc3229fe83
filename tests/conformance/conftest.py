"""pytest fixtures: start/stop oss-emulator processes for test_oss_v2.py.

The binary path comes from OSS_EMULATOR_BIN (run.sh sets it); otherwise
$CARGO_TARGET_DIR/debug/oss-emulator or <repo>/target/debug/oss-emulator.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def emulator_binary() -> Path:
    env = os.environ.get("OSS_EMULATOR_BIN")
    if env:
        return Path(env)
    target = os.environ.get("CARGO_TARGET_DIR")
    target_dir = (REPO_ROOT / target) if target else (REPO_ROOT / "target")
    return target_dir / "debug" / "oss-emulator"


@dataclass
class Emulator:
    proc: subprocess.Popen
    port: int
    data_dir: str
    stderr_lines: List[str] = field(default_factory=list)
    exit_code: Optional[int] = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        return "".join(self.stderr_lines[-200:])

    def stop(self) -> int:
        """SIGTERM, wait up to 10 s, return the exit code (negative = killed by a signal)."""
        if self.exit_code is not None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.exit_code = -9
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return self.exit_code


def start_emulator(buckets, access_key_id, access_key_secret, security_token=None,
                   region="cn-hangzhou") -> Emulator:
    binary = emulator_binary()
    if not binary.exists():
        raise RuntimeError(f"oss-emulator binary not found at {binary} "
                           "(build it with: cargo build -p oss-emulator)")
    data_dir = tempfile.mkdtemp(prefix="oss-conformance-py-")
    args = [str(binary), "--listen", "127.0.0.1:0", "--data-dir", data_dir]
    for b in buckets:
        args += ["--bucket", b]
    args += ["--access-key-id", access_key_id, "--access-key-secret", access_key_secret]
    if security_token:
        args += ["--security-token", security_token]
    args += ["--region", region]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    stderr_lines: List[str] = []

    def drain_stderr():
        for line in proc.stderr:
            stderr_lines.append(line)

    threading.Thread(target=drain_stderr, daemon=True).start()

    first_line: List[str] = []
    got_line = threading.Event()

    def drain_stdout():
        for line in proc.stdout:
            if not first_line:
                first_line.append(line)
                got_line.set()
        got_line.set()

    threading.Thread(target=drain_stdout, daemon=True).start()
    if not got_line.wait(timeout=15) or not first_line:
        proc.kill()
        proc.wait()
        raise RuntimeError("oss-emulator did not print its listening line within 15 s "
                           f"(exit {proc.returncode}); stderr:\n{''.join(stderr_lines)}")
    m = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)", first_line[0].strip())
    if not m:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"unexpected first stdout line from oss-emulator: {first_line[0]!r}")
    return Emulator(proc=proc, port=int(m.group(1)), data_dir=data_dir, stderr_lines=stderr_lines)
