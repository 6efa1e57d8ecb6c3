"""A small in-memory fake of the Hugging Face Hub's HTTP API, for offline tests of pushing and pulling.

Only the HTTP boundary is fake: ``huggingface_hub`` and ``datasets`` run their real code against it
(pointed here by ``huggingface_hub.constants.ENDPOINT`` / ``datasets.config.HF_ENDPOINT``). It serves the
endpoints those libraries call to create a repo, read its info, upload files (the preupload query,
the git-LFS batch API with single-part "basic" uploads and verify, and the NDJSON commit) and read
files back (tree listing, paths-info, ``resolve`` with HEAD and byte ranges). Any other request is
answered 501 and recorded in :attr:`FakeHub.unknown`, so a test can assert none happened.

Bounded on purpose: it binds 127.0.0.1 on a free port, refuses request bodies over ``max_body``,
times out idle sockets, and :meth:`FakeHub.stop` shuts it down (the test fixture always does).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
#: Files the Hub stores through LFS by extension (its default .gitattributes covers these and more).
_LFS_SUFFIXES = (".parquet", ".safetensors", ".bin", ".pt", ".pth", ".arrow", ".h5", ".onnx", ".npy", ".zip")
_REPO = r"(?P<repo>[\w.-]+/[\w.-]+)"


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob, as the Hub reports it for regular files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class StoredFile:
    data: bytes
    lfs: bool

    @property
    def oid(self) -> str:
        return git_blob_oid(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    files: dict[str, StoredFile]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    commits: list[Commit] = field(default_factory=list)

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def commit_at(self, revision: str) -> Commit | None:
        revision = unquote(revision)
        if revision == "main":
            return self.head
        for commit in self.commits:
            if commit.oid == revision:
                return commit
        return None


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class FakeHub:
    """The server's state (repos, LFS blobs, a request log) and its lifecycle."""

    def __init__(self, *, user: str = "tester", token: str = "hf_fake_token", max_body: int = 64 * 2**20) -> None:
        self.user = user
        self.token = token
        self.max_body = max_body
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_blobs: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        self.unknown: list[tuple[str, str]] = []
        self.validated_cards: list[str] = []
        self.lfs_uploads = 0
        self.regular_uploads = 0
        self._lock = threading.RLock()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        """Serve on 127.0.0.1 (a free port) in a daemon thread; returns the endpoint URL."""
        hub = self

        class Handler(_Handler):
            fake = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-hub", daemon=True)
        self._thread.start()
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the fake Hub is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- helpers for tests ---------------------------------------------------------------------------
    def repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def files(self, repo_id: str, repo_type: str = "model") -> dict[str, StoredFile]:
        """The files at the head of ``main``."""
        return self.repo(repo_id, repo_type).head.files

    # --- state changes ---------------------------------------------------------------------------------
    def _new_oid(self, *parts: Any) -> str:
        self._counter += 1
        return hashlib.sha1(repr((self._counter, time.time_ns(), parts)).encode()).hexdigest()

    def create_repo(self, repo_type: str, repo_id: str, private: bool) -> Repo:
        with self._lock:
            if (repo_type, repo_id) in self.repos:
                raise _HTTPError(409, "You already created this repo")
            repo = Repo(repo_type, repo_id, private)
            attrs = StoredFile(b"*.parquet filter=lfs diff=lfs merge=lfs -text\n", lfs=False)
            repo.commits.append(Commit(self._new_oid(repo_id), None, "initial commit", {".gitattributes": attrs}))
            self.repos[(repo_type, repo_id)] = repo
            return repo

    def commit(self, repo: Repo, revision: str, lines: list[dict[str, Any]]) -> Commit:
        with self._lock:
            if unquote(revision) != "main":
                raise _HTTPError(400, f"this fake only commits to main, not {revision!r}")
            header = next((ln["value"] for ln in lines if ln.get("key") == "header"), None)
            if header is None:
                raise _HTTPError(400, "commit payload has no header line")
            parent = header.get("parentCommit")
            if parent is not None and parent != repo.head.oid:
                raise _HTTPError(412, f"parent commit {parent} is not the head {repo.head.oid}")
            files = dict(repo.head.files)
            for line in lines:
                key, value = line.get("key"), line.get("value", {})
                if key == "header":
                    continue
                path = value.get("path")
                if key == "file":
                    if value.get("encoding") != "base64":
                        raise _HTTPError(400, f"unsupported encoding {value.get('encoding')!r}")
                    files[path] = StoredFile(base64.b64decode(value["content"]), lfs=False)
                    self.regular_uploads += 1
                elif key == "lfsFile":
                    blob = self.lfs_blobs.get(value.get("oid", ""))
                    if blob is None:
                        raise _HTTPError(400, f"LFS object {value.get('oid')} for {path} was never uploaded")
                    files[path] = StoredFile(blob, lfs=True)
                elif key == "deletedFile":
                    if path not in files:
                        raise _HTTPError(404, f"cannot delete missing file {path}", "EntryNotFound")
                    del files[path]
                elif key == "deletedFolder":
                    prefix = path.rstrip("/") + "/"
                    for name in [n for n in files if n.startswith(prefix)]:
                        del files[name]
                else:
                    raise _HTTPError(400, f"unknown commit operation {key!r}")
            commit = Commit(self._new_oid(repo.repo_id, header), repo.head.oid, header.get("summary", ""), files)
            repo.commits.append(commit)
            return commit


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing -------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(out)
                if len(out) + size > self.fake.max_body:
                    raise _HTTPError(413, "request body too large")
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.fake.max_body:
            raise _HTTPError(413, "request body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _authorized(self) -> bool:
        return self.headers.get("Authorization", "") == f"Bearer {self.fake.token}"

    def _require_auth(self) -> None:
        if not self._authorized():
            raise _HTTPError(401, "Invalid credentials in Authorization header")

    def _repo(self, type_plural: str, repo_id: str) -> Repo:
        repo = self.fake.repos.get((_TYPES[type_plural], repo_id))
        if repo is None or (repo.private and not self._authorized()):
            raise _HTTPError(404, f"Repository Not Found for url: {self.path}", "RepoNotFound")
        return repo

    def _at(self, repo: Repo, revision: str) -> Commit:
        commit = repo.commit_at(revision)
        if commit is None:
            raise _HTTPError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        path, query = unquote(url.path), parse_qs(url.query)
        self.fake.requests.append((self.command, path))
        for method, pattern, handler in _ROUTES:
            if method == self.command or (method == "GET" and self.command == "HEAD"):
                match = re.fullmatch(pattern, path)
                if match:
                    handler(self, query=query, **match.groupdict())
                    return
        self.fake.unknown.append((self.command, self.path))
        self._body()
        self._json({"error": f"fake Hub: no route for {self.command} {path}"}, status=501)

    def _handle(self) -> None:
        try:
            self._dispatch()
        except _HTTPError as err:
            headers = {"X-Error-Message": err.message}
            if err.code:
                headers["X-Error-Code"] = err.code
            self._json({"error": err.message}, status=err.status, headers=headers)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _handle

    # --- API routes ----------------------------------------------------------------------------------
    def whoami(self, query: dict[str, list[str]]) -> None:
        self._require_auth()
        self._json({"type": "user", "name": self.fake.user, "orgs": [], "auth": {"accessToken": {"role": "write"}}})

    def agent_harnesses(self, query: dict[str, list[str]]) -> None:
        # huggingface_hub's best-effort user-agent telemetry registry: an empty one detects nothing.
        self._json({"standardEnvVars": [], "harnesses": {}})

    def validate_yaml(self, query: dict[str, list[str]]) -> None:
        """Reject README front matter that is not a YAML mapping, as the Hub does before a commit."""
        import yaml

        content = json.loads(self._body()).get("content", "")
        match = re.match(r"^---\r?\n(.*?)\r?\n---\r?\n", content, flags=re.S)
        errors = []
        if match:
            try:
                meta = yaml.safe_load(match.group(1))
            except yaml.YAMLError as err:
                errors.append({"message": f"invalid YAML: {err}"})
            else:
                if meta is not None and not isinstance(meta, dict):
                    errors.append({"message": "metadata must be a YAML mapping"})
        self.fake.validated_cards.append(content)
        self._json({"errors": errors, "warnings": []}, status=400 if errors else 200)

    def create_repo(self, query: dict[str, list[str]]) -> None:
        self._require_auth()
        payload = json.loads(self._body() or b"{}")
        repo_type = payload.get("type") or "model"
        repo_id = f"{payload.get('organization') or self.fake.user}/{payload['name']}"
        private = payload.get("visibility", "public") == "private" or bool(payload.get("private"))
        self.fake.create_repo(repo_type, repo_id, private)
        url = f"{self.fake.endpoint}/{_PREFIX[repo_type]}{repo_id}"
        self._json({"url": url, "name": repo_id, "id": repo_id})

    def repo_info(self, query: dict[str, list[str]], types: str, repo: str, rev: str = "main") -> None:
        r = self._repo(types, repo)
        commit = self._at(r, rev or "main")
        self._json({
            "id": r.repo_id, "_id": r.repo_id, "author": r.repo_id.split("/")[0], "sha": commit.oid,
            "private": r.private, "lastModified": "2026-01-01T00:00:00.000Z", "tags": [], "downloads": 0,
            "likes": 0, "gated": False, "disabled": False,
            "siblings": [{"rfilename": name} for name in sorted(commit.files)],
        })

    def preupload(self, query: dict[str, list[str]], types: str, repo: str, rev: str) -> None:
        self._require_auth()
        r = self._repo(types, repo)
        self._at(r, rev)
        payload = json.loads(self._body())
        out = []
        for f in payload["files"]:
            sample = base64.b64decode(f.get("sample", ""))
            lfs = f["path"].endswith(_LFS_SUFFIXES) or b"\0" in sample or f["size"] > 10 * 2**20
            out.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False})
        self._json({"files": out, "commitOid": r.head.oid})

    def lfs_batch(self, query: dict[str, list[str]], prefix: str | None, repo: str) -> None:
        self._require_auth()
        self._repo(f"{prefix.rstrip('/')}" if prefix else "models", repo)
        payload = json.loads(self._body())
        if payload.get("operation") != "upload":
            raise _HTTPError(400, f"this fake only supports LFS uploads, not {payload.get('operation')!r}")
        if "basic" not in payload.get("transfers", ["basic"]):
            raise _HTTPError(400, f"no supported transfer in {payload.get('transfers')}")
        objects = []
        for obj in payload["objects"]:
            oid, size = obj["oid"], obj["size"]
            entry: dict[str, Any] = {"oid": oid, "size": size}
            if oid not in self.fake.lfs_blobs:
                base = self.fake.endpoint
                entry["actions"] = {"upload": {"href": f"{base}/_fake_lfs/{oid}?size={size}"},
                                    "verify": {"href": f"{base}/_fake_lfs/verify"}}
            objects.append(entry)
        self._json({"transfer": "basic", "objects": objects}, headers={"Content-Type": "application/vnd.git-lfs+json"})

    def lfs_put(self, query: dict[str, list[str]], oid: str) -> None:
        data = self._body()
        if hashlib.sha256(data).hexdigest() != oid:
            raise _HTTPError(400, f"uploaded content does not match oid {oid}")
        if query.get("size") and int(query["size"][0]) != len(data):
            raise _HTTPError(400, f"uploaded {len(data)} bytes, announced {query['size'][0]}")
        with self.fake._lock:
            self.fake.lfs_blobs[oid] = data
            self.fake.lfs_uploads += 1
        self._send(200)

    def lfs_verify(self, query: dict[str, list[str]]) -> None:
        self._require_auth()
        payload = json.loads(self._body())
        blob = self.fake.lfs_blobs.get(payload["oid"])
        if blob is None or len(blob) != payload["size"]:
            raise _HTTPError(404, f"LFS object {payload['oid']} not stored with size {payload['size']}")
        self._json({"success": True})

    def commit(self, query: dict[str, list[str]], types: str, repo: str, rev: str) -> None:
        self._require_auth()
        r = self._repo(types, repo)
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        commit = self.fake.commit(r, rev, lines)
        url = f"{self.fake.endpoint}/{_PREFIX[r.repo_type]}{r.repo_id}/commit/{commit.oid}"
        self._json({"success": True, "commitOid": commit.oid, "commitUrl": url, "pullRequestUrl": None})

    def _entry(self, name: str, f: StoredFile, expand: bool) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": "file", "path": name, "size": len(f.data), "oid": f.oid}
        if f.lfs:
            entry["lfs"] = {"oid": f.sha256, "size": len(f.data), "pointerSize": 134}
        if expand:
            entry["lastCommit"] = {"id": "0" * 40, "title": "", "date": "2026-01-01T00:00:00.000Z"}
        return entry

    def _listing(self, commit: Commit, base: str, recursive: bool, expand: bool) -> list[dict[str, Any]]:
        base = base.strip("/")
        prefix = f"{base}/" if base else ""
        out: list[dict[str, Any]] = []
        dirs: set[str] = set()
        for name in sorted(commit.files):
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):]
            parts = rest.split("/")
            for depth in range(1, len(parts)):
                if depth > 1 and not recursive:
                    break
                d = prefix + "/".join(parts[:depth])
                if d not in dirs:
                    dirs.add(d)
                    out.append({"type": "directory", "path": d, "oid": git_blob_oid(d.encode()), "size": 0})
            if len(parts) == 1 or recursive:
                out.append(self._entry(name, commit.files[name], expand))
        return out

    def tree(self, query: dict[str, list[str]], types: str, repo: str, rev: str, sub: str = "") -> None:
        commit = self._at(self._repo(types, repo), rev)
        sub = (sub or "").strip("/")
        if sub and not any(n.startswith(sub + "/") for n in commit.files):
            raise _HTTPError(404, f"{sub} does not exist on {rev}", "EntryNotFound")
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        expand = query.get("expand", ["false"])[0].lower() in ("1", "true")
        self._json(self._listing(commit, sub, recursive, expand))

    def paths_info(self, query: dict[str, list[str]], types: str, repo: str, rev: str) -> None:
        commit = self._at(self._repo(types, repo), rev)
        body = self._body()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(body)
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(body.decode())
            paths, expand = form.get("paths", []), form.get("expand", ["false"])[0].lower() in ("1", "true")
        out = []
        for p in paths:
            p = p.strip("/")
            if p in commit.files:
                out.append(self._entry(p, commit.files[p], expand))
            elif any(n.startswith(p + "/") for n in commit.files):
                out.append({"type": "directory", "path": p, "oid": git_blob_oid(p.encode()), "size": 0})
        self._json(out)

    def resolve(self, query: dict[str, list[str]], prefix: str | None, repo: str, rev: str, file: str) -> None:
        r = self._repo(prefix.rstrip("/") if prefix else "models", repo)
        commit = self._at(r, rev)
        f = commit.files.get(file)
        if f is None:
            raise _HTTPError(404, f"Entry not found: {file}", "EntryNotFound")
        data = f.data
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{f.oid}"', "Accept-Ranges": "bytes"}
        if f.lfs:
            headers["X-Linked-Etag"] = f'"{f.sha256}"'
            headers["X-Linked-Size"] = str(len(data))
        status = 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        if match and self.command == "GET":
            start_s, end_s = match.groups()
            if start_s == "":
                start, end = max(0, len(data) - int(end_s)), len(data) - 1
            else:
                start = int(start_s)
                end = min(int(end_s), len(data) - 1) if end_s else len(data) - 1
            if start >= len(data) and len(data) > 0:
                raise _HTTPError(416, f"range {start}- outside {len(data)} bytes")
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start:end + 1], 206
        self._send(status, data, headers, content_type="application/octet-stream")


_T = r"(?P<types>models|datasets|spaces)"
_P = r"(?P<prefix>datasets/|spaces/)?"
_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", r"/api/whoami-v2", _Handler.whoami),
    ("GET", r"/api/agent-harnesses", _Handler.agent_harnesses),
    ("POST", r"/api/validate-yaml", _Handler.validate_yaml),
    ("POST", r"/api/repos/create", _Handler.create_repo),
    ("GET", rf"/api/{_T}/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<sub>.*))?", _Handler.tree),
    ("POST", rf"/api/{_T}/{_REPO}/paths-info/(?P<rev>[^/]+)", _Handler.paths_info),
    ("POST", rf"/api/{_T}/{_REPO}/preupload/(?P<rev>[^/]+)", _Handler.preupload),
    ("POST", rf"/api/{_T}/{_REPO}/commit/(?P<rev>[^/]+)", _Handler.commit),
    ("GET", rf"/api/{_T}/{_REPO}(?:/revision/(?P<rev>[^/]+))?", _Handler.repo_info),
    ("POST", rf"/{_P}{_REPO}\.git/info/lfs/objects/batch", _Handler.lfs_batch),
    ("PUT", r"/_fake_lfs/(?P<oid>[0-9a-f]{64})", _Handler.lfs_put),
    ("POST", r"/_fake_lfs/verify", _Handler.lfs_verify),
    ("GET", rf"/{_P}{_REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)", _Handler.resolve),
]
