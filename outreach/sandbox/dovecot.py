"""A private Dovecot IMAP server on loopback, for tests and the demo (never for production).

The mailbox channel reads replies over IMAP; testing it against a real server (Debian's Dovecot)
rather than a mock catches what mocks hide: UIDs and UIDVALIDITY as a server assigns them, folder
names, special-use flags, login failures. Each instance runs `dovecot -F` as a subprocess with its
own generated config, `base_dir`, `state_dir`, Maildirs and log file under one temporary folder, on
free ports of 127.0.0.1, so several can run at once (one per pytest-xdist worker).

Users live in passwd-files (one per user, users/<name>) with plain passwords (test accounts only);
plaintext login is allowed on loopback, refused logins answer at once (no failure delay, no penalty).
`deliver()` hands a message to Dovecot's LMTP socket, the path real mail takes, so
UIDs advance as they would in production and the message gets the headers a delivering server adds.
Run as root, mail is stored as `nobody` (Dovecot refuses UID 0 for mail) and Dovecot's services
keep their Debian users (dovecot, dovenull); run as another user, everything runs as that user
(this path has not been exercised: tests and CI run as root).
"""

import contextlib
import ctypes
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"


def installed() -> bool:
    """True when Debian's dovecot-imapd and dovecot-lmtpd are installed."""
    return os.access(DOVECOT, os.X_OK) and Path("/usr/lib/dovecot/lmtp").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DovecotError(RuntimeError):
    """Dovecot did not start, or a command against it failed; the message quotes its log."""


class Dovecot:
    """A private Dovecot: `start()`/`stop()` or `with Dovecot() as server:`.

    `port` is the IMAP port (plaintext, LOGIN allowed); with `imaps=True`, `imaps_port` is IMAP over
    TLS with a self-signed certificate for "localhost" (`cert_path` to trust it). Every user has the
    folders INBOX, Sent (special-use \\Sent), Drafts, Junk and Trash.
    """

    def __init__(self, port: int = 0, imaps: bool = False, root: str | os.PathLike | None = None):
        if not installed():
            raise DovecotError(f"Dovecot is not installed ({DOVECOT}): apt-get install dovecot-imapd dovecot-lmtpd")
        self.host = "127.0.0.1"
        self.port = port
        self.imaps = imaps
        self.imaps_port = 0
        self._given_root = Path(root) if root else None
        self.root: Path | None = None
        self.users: dict[str, str] = {}
        self._process: subprocess.Popen | None = None
        self._passwd_stamp = 0
        self._file_seen: dict[str, float] = {}  # user -> until when their passwd-file existed
        if os.geteuid() == 0:
            # Dovecot will not touch mail as UID 0; its own services keep their Debian users.
            self._mail_user, self._internal_user, self._login_user = "nobody", "dovecot", "dovenull"
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            self._mail_user = self._internal_user = self._login_user = me

    # Paths inside the private folder.
    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    @property
    def lmtp_socket(self) -> Path:
        return self.root / "run" / "lmtp"

    @property
    def cert_path(self) -> Path:
        return self.root / "ssl" / "cert.pem"

    def mail_dir(self, user: str) -> Path:
        return self.root / "mail" / user.lower()

    # Life cycle.
    def start(self) -> "Dovecot":
        if self._process is not None:
            return self
        if self._given_root:
            self.root = self._given_root
            self.root.mkdir(parents=True, exist_ok=True)
        else:
            self.root = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self._owned_root = self._given_root is None
        self.root.chmod(0o755)  # Dovecot's unprivileged services must reach run/ and the passwd-file
        for name in ("run", "state", "mail", "ssl"):
            (self.root / name).mkdir(exist_ok=True)
        mail = pwd.getpwnam(self._mail_user)
        os.chown(self.root / "mail", mail.pw_uid, mail.pw_gid)
        if self.imaps:
            self._write_certificate()
        self._write_passwd()
        fixed_port = self.port
        for _attempt in range(5):
            self.port = fixed_port or _free_port()
            if self.imaps:
                self.imaps_port = _free_port()
            self.config_path.write_text(self._config())
            if self.log_path.exists():
                self.log_path.unlink()
            self._process = subprocess.Popen(  # noqa: S603 - a fixed binary and our own config file
                [DOVECOT, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C in the terminal reaches our stop(), not Dovecot directly
                preexec_fn=_pdeathsig(),  # one prctl call, looked up before the fork
            )
            if self._wait_ready():
                return self
            stderr = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
            self._kill()
            log = self._log_tail()
            if "in use" not in stderr + log or fixed_port:
                raise DovecotError(f"Dovecot did not start: {stderr.strip()} {log}".strip())
        raise DovecotError("Dovecot did not start: no free port after 5 attempts")

    def _wait_ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        ports = [self.port] + ([self.imaps_port] if self.imaps else [])
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                for port in ports:
                    with socket.create_connection((self.host, port), timeout=0.5):
                        pass
                if self.lmtp_socket.exists():
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self._kill()
        if self.root is not None and getattr(self, "_owned_root", False):
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            # SIGTERM to its whole process group (the master leads one: start_new_session): each process
            # exits at once, where the master alone would stop its children and wait a second for them.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process.stderr:
            process.stderr.close()

    def __enter__(self) -> "Dovecot":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # Users and mail.
    def add_user(self, name: str, password: str) -> None:
        """Add (or re-password) a mailbox user; `name` is the login, usually an email address."""
        if not name or any(c in name for c in ":\n/") or name.startswith("."):
            raise ValueError(f"user name {name!r} is not usable as a mailbox login")
        if ":" in password or "\n" in password:
            raise ValueError("password must not contain ':' or a newline")
        if self.root is not None and self.users.get(name.lower()) not in (None, password):
            self._file_seen[name.lower()] = time.time()  # the old password may be cached this second
        self.users[name.lower()] = password
        if self.root is not None:
            self._write_passwd(name.lower())  # re-read by Dovecot when it changes; no reload needed

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX", mail_from: str = "") -> None:
        """Deliver `raw` to `user` through LMTP, as a mail server would; `folder` other than INBOX uses
        Dovecot's `user+folder` detail delivery (the folder is created if missing)."""
        user = user.lower()
        if user not in self.users:
            raise KeyError(f"no mailbox user {user!r}; add_user() first")
        recipient = user if folder == "INBOX" else self._detail_address(user, folder)
        with smtplib.LMTP(str(self.lmtp_socket), timeout=10) as lmtp:
            refused = lmtp.sendmail(mail_from or "<>", [recipient], raw)
        if refused:
            raise DovecotError(f"LMTP refused {recipient}: {refused}")

    def append(self, user: str, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> int:
        """Store `raw` in `folder` through IMAP APPEND (as a mail client saving to Sent does) and
        return the UID Dovecot gave it."""
        with self.imap(user) as imap:
            typ, data = imap.append(_quote(folder), " ".join(flags) or None, None, raw)
        match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"") if typ == "OK" else None
        if not match:
            raise DovecotError(f"APPEND to {folder} failed: {data}")
        return int(match.group(1))

    def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> None:
        """Make `folder` start over with a new UIDVALIDITY and no messages, as after a server
        migration: other folders are deleted and re-created over IMAP; INBOX, which IMAP cannot
        delete, is emptied and its UID list dropped so Dovecot assigns a new UIDVALIDITY."""
        if folder.upper() != "INBOX":
            with self.imap(user) as imap:
                for command in ("delete", "create"):
                    typ, data = getattr(imap, command)(_quote(folder))
                    if typ != "OK":
                        raise DovecotError(f"{command.upper()} {folder} failed: {data}")
                if folder in ("Sent", "Drafts", "Junk", "Trash"):
                    imap.subscribe(_quote(folder))
            return
        # Dovecot keeps INBOX's UIDs in Maildir/dovecot-uidlist and its indexes: with the sessions
        # closed and those gone (and the messages), it rebuilds INBOX and takes the next UIDVALIDITY.
        self._doveadm("kick", user)
        maildir = self.mail_dir(user) / "Maildir"
        if not maildir.exists():
            return
        for sub in ("cur", "new", "tmp"):
            for message in (maildir / sub).glob("*"):
                message.unlink()
        for name in ("dovecot-uidlist", "dovecot.index", "dovecot.index.cache", "dovecot.index.log"):
            with contextlib.suppress(FileNotFoundError):
                (maildir / name).unlink()

    def status(self, user: str, folder: str = "INBOX") -> dict[str, int]:
        """STATUS of a folder: MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN."""
        with self.imap(user) as imap:
            typ, data = imap.status(_quote(folder), "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)")
            if typ != "OK":
                raise DovecotError(f"STATUS {folder} failed: {data}")
        words = data[0].decode().rsplit("(", 1)[1].rstrip(")").split()
        return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}

    def wipe(self) -> None:
        """Forget every user and all their mail (between tests); the server keeps running."""
        if self.users and self.running:
            self._doveadm("kick", "*")  # close IMAP sessions a test left open
        if self.root is not None:
            for name in self.users:
                self._remove_passwd(name)
            for child in (self.root / "mail").iterdir():
                shutil.rmtree(child, ignore_errors=True)
        self.users.clear()

    @contextlib.contextmanager
    def imap(self, user: str):
        """A logged-in imaplib connection as `user` (for the helpers; tests use the product's client)."""
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            imap.login(user, self.users[user.lower()])
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    # Internals.
    def _detail_address(self, user: str, folder: str) -> str:
        local, at, domain = user.partition("@")
        return f"{local}+{folder}{at}{domain}"

    def _doveadm(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603 - a fixed binary, arguments from this class
            [DOVEADM, "-c", str(self.config_path), *args], capture_output=True, text=True, timeout=30
        )
        # kick answers 68 when there was nobody to kick.
        if result.returncode not in (0, 68) or (result.returncode == 68 and args[0] != "kick"):
            raise DovecotError(f"doveadm {' '.join(args)}: {result.stderr.strip() or result.returncode}")
        return result.stdout

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _write_passwd(self, user: str | None = None) -> None:
        """Each user has a passwd-file of their own (users/<name>), which Dovecot's auth process
        re-reads when its mtime or size changes, but looks at no more than once a second. So a user
        whose file existed during the current second (a test reusing the name of the previous
        test's user) is written only after that second has passed, and every version gets a later
        mtime than the one before."""
        users_dir = self.root / "users"
        users_dir.mkdir(exist_ok=True)
        names = [user] if user else list(self.users)
        for name in names:
            path = users_dir / name
            if int(self._file_seen.get(name, 0)) >= int(time.time()):
                time.sleep(int(time.time()) + 1 - time.time() + 0.01)
            tmp = users_dir / f".{name}.tmp"
            tmp.write_text(f"{name}:{{PLAIN}}{self.users[name]}::::::\n")
            if os.geteuid() == 0:
                # The auth service runs as the internal user: let it, and nobody else, read the password.
                os.chown(tmp, 0, pwd.getpwnam(self._internal_user).pw_gid)
            tmp.chmod(0o640)
            self._passwd_stamp = max(int(time.time()), self._passwd_stamp + 1)
            os.utime(tmp, (self._passwd_stamp, self._passwd_stamp))
            tmp.replace(path)
            self._file_seen[name] = sys.maxsize  # exists from now on

    def _remove_passwd(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / "users" / name).unlink()
        self._file_seen[name] = time.time()  # existed until now

    def _write_certificate(self) -> None:
        """A self-signed certificate for localhost/127.0.0.1, valid for a day."""
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(self.host))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path = self.root / "ssl" / "key.pem"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)  # read by the master (root or us) before it drops privileges

    def _config(self) -> str:
        root = self.root
        imaps_listener = (
            f"  inet_listener imaps {{\n    address = {self.host}\n    port = {self.imaps_port}\n    ssl = yes\n  }}\n"
            if self.imaps
            else "  inet_listener imaps {\n    port = 0\n  }\n"
        )
        ssl = (
            f"ssl = yes\nssl_cert = <{self.cert_path}\nssl_key = <{root / 'ssl' / 'key.pem'}\n"
            "ssl_min_protocol = TLSv1.2\n"
            if self.imaps
            else "ssl = no\n"
        )
        mail = pwd.getpwnam(self._mail_user)
        return f"""# Generated by outreach/sandbox/dovecot.py for a private test/demo server; do not edit.
instance_name = dovecot-{root.name}
base_dir = {root / "run"}
state_dir = {root / "state"}
protocols = imap lmtp
listen = {self.host}
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
default_internal_user = {self._internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(self._internal_user).pw_gid).gr_name}
default_login_user = {self._login_user}
first_valid_uid = {mail.pw_uid}
last_valid_uid = {mail.pw_uid}
first_valid_gid = {mail.pw_gid}
last_valid_gid = {mail.pw_gid}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 0
auth_failure_delay = 0  # a refused login answers at once (tests check refusals)
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {root / "users"}/%Lu
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={root / "mail"}/%Lu
}}
mail_location = maildir:~/Maildir
mail_uid = {mail.pw_uid}
mail_gid = {mail.pw_gid}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
lda_mailbox_autocreate = yes
lda_mailbox_autosubscribe = yes
postmaster_address = postmaster@localhost
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
{imaps_listener}}}
# No growing delay for an IP after refused logins (tests refuse logins on purpose).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0600
    user = {pwd.getpwuid(os.geteuid()).pw_name}
  }}
}}
"""


def _pdeathsig():
    """A function for the child before exec: SIGTERM Dovecot's master if the process that started it
    dies without calling stop() (a crashed test run or demo), so no server is left holding ports and
    a temp folder. libc is loaded here, in the parent: after a fork only the call itself is safe."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
