"""A small filesystem made by a test: a size-limited tmpfs, so that "the disk is full" is real.

As root (CI runs as root on a fresh VM) the tmpfs is mounted where the test wants it. Otherwise it
falls back to a private user+mount namespace (`unshare -rm`): a holder process mounts the tmpfs
there and sleeps; processes that must see it are started through `nsenter` into that namespace,
and the test reaches the files through /proc/<holder>/root. NEREID_SMALL_DISK=unshare forces the
fallback (to test it as root). Neither possible: the test fails, it is never skipped.

Always unmounted (or its namespace ended) on exit, also when the test fails.
"""

import errno
import os
import shutil
import subprocess
import time


class SmallDisk:
    def __init__(self, mountpoint, size_bytes):
        self.mountpoint = os.path.abspath(str(mountpoint))
        self.size_bytes = size_bytes
        self.holder = None
        self.prefix = []  # command prefix for processes that must see the filesystem
        os.makedirs(self.mountpoint, exist_ok=True)
        mode = os.environ.get("NEREID_SMALL_DISK", "")
        if mode != "unshare" and os.geteuid() == 0:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0755",
                            "nereid-test", self.mountpoint], check=True)
            self.path = self.mountpoint
            return
        if shutil.which("unshare") is None or shutil.which("nsenter") is None:
            raise RuntimeError("cannot make a small filesystem: not root and no unshare/nsenter")
        self.holder = subprocess.Popen(
            ["unshare", "-rm", "--propagation", "private", "sh", "-c",
             f"mount -t tmpfs -o size={size_bytes} nereid-test '{self.mountpoint}' && "
             "echo ready && exec sleep 100000"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.holder.stdout.readline()
        if line.strip() != "ready":
            self.holder.kill()
            raise RuntimeError(f"unshare -rm could not mount a tmpfs: {self.holder.stderr.read()}")
        self.prefix = ["nsenter", "-t", str(self.holder.pid), "-U", "-m", "--preserve-credentials",
                       f"--wd={os.getcwd()}"]
        self.path = f"/proc/{self.holder.pid}/root{self.mountpoint}"

    def outside(self, inside_path):
        """The path by which the test reaches `inside_path` (a path under the mountpoint)."""
        return self.path + os.path.abspath(inside_path)[len(self.mountpoint):]

    def free_bytes(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self, name="filler"):
        """Writes a file until the filesystem refuses another byte; returns its path."""
        path = os.path.join(self.path, name)
        with open(path, "ab", buffering=0) as f:
            for block in (1 << 20, 4096, 1):
                while True:
                    try:
                        f.write(b"\0" * block)
                    except OSError as e:
                        if e.errno != errno.ENOSPC:
                            raise
                        break
        return path

    def close(self):
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait()
            self.holder = None
            return
        for _ in range(50):
            r = subprocess.run(["umount", self.mountpoint], capture_output=True, text=True)
            if r.returncode == 0 or "not mounted" in r.stderr:
                return
            time.sleep(0.1)  # a process still holds a file there
        subprocess.run(["umount", "-l", self.mountpoint], check=True)
