"""A small Hugging Face Hub stand-in on 127.0.0.1 for tests: the API routes huggingface_hub's client uses.

It keeps model repos in memory (branches, commits, PR refs; regular and LFS files) and answers:

- ``POST /api/repos/create``                         create a repo (409 when it exists)
- ``GET  /api/whoami-v2``                            the token's user
- ``POST /api/validate-yaml``                        README front matter must be a YAML mapping
- ``GET  /api/models?search=&filter=&library=&author=&limit=&cardData=&full=``   list repos
- ``GET  /api/models/{repo}[/revision/{rev}]``       repo info with ``sha``, ``siblings``, ``tags``, ``cardData``
- ``GET  /api/models/{repo}/tree/{rev}[/{path}]``    tree listing (``recursive``)
- ``GET  /api/models/{repo}/refs``                   branches and PR refs
- ``POST /api/models/{repo}/preupload/{rev}``        upload mode per file: ``upload_mode`` "regular" or "lfs"
- ``POST /api/models/{repo}/branch/{branch}``        create a branch
- ``POST /api/models/{repo}/commit/{rev}``           NDJSON commit (``file`` base64, ``lfsFile``, deletions;
  ``create_pr``)
- ``POST /{repo}.git/info/lfs/objects/batch``        LFS batch API (basic transfer, with a verify action)
- ``PUT  /__lfs__/upload/{oid}``, ``POST /__lfs__/verify/{oid}``   where the batch API sends the client
- ``HEAD/GET /{repo}/resolve/{rev}/{path}``          file bytes with ``X-Repo-Commit``, ``ETag`` (and
  ``X-Linked-Etag``/``X-Linked-Size`` for LFS files); ``Range`` requests

Errors carry the headers the client maps to its exceptions (``X-Error-Code: RepoNotFound``,
``RevisionNotFound``, ``EntryNotFound``); an unknown token gets 401 "Invalid credentials in Authorization
header" on every route. Xet is never offered (no ``X-Xet-*`` headers, no xet token route), so a client with
xet enabled must be answered "regular" by preupload (``upload_mode = "regular"``, the default).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

LFS_EXTENSIONS = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".png", ".npy")
BAD_TOKEN = "Invalid credentials in Authorization header"


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(oid: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


@dataclass
class Blob:
    """One file in a commit: its bytes, and its LFS oid when stored as LFS."""

    data: bytes
    lfs: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def blob_id(self) -> str:
        return git_blob_id(lfs_pointer(self.sha256, len(self.data)) if self.lfs else self.data)


@dataclass
class Repo:
    repo_id: str
    owner: str
    private: bool = False
    branches: dict[str, str] = field(default_factory=dict)  # ref name -> commit oid
    commits: dict[str, dict[str, Blob]] = field(default_factory=dict)  # commit oid -> files
    titles: dict[str, str] = field(default_factory=dict)
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
    prs: int = 0
    downloads: int = 0


class HubState:
    """Repos, LFS objects, tokens; shared by every request thread."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = dict(tokens)  # token -> user name
        self.repos: dict[str, Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.upload_mode = "regular"  # what preupload answers for binary files: "regular" or "lfs"
        self.lfs_repos: set[str] = set()  # repos whose binary files preupload sends through LFS anyway
        self.lock = threading.RLock()
        self.log: list[tuple[str, str, int]] = []  # (method, path, status)
        self._counter = itertools.count(1)

    def new_oid(self, seed: str) -> str:
        return hashlib.sha1(f"{seed}-{next(self._counter)}-{time.time_ns()}".encode()).hexdigest()

    def add_repo(self, repo_id: str, owner: str, private: bool = False) -> Repo:
        repo = Repo(repo_id, owner, private)
        oid = self.new_oid(repo_id)
        repo.commits[oid] = {".gitattributes": Blob(b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n")}
        repo.titles[oid] = "initial commit"
        repo.branches["main"] = oid
        self.repos[repo_id] = repo
        return repo

    def put_repo(self, repo_id: str, files: dict[str, bytes], private: bool = False, owner: str | None = None) -> str:
        """Seed a repo directly (tests use it for repos ganzoo would never write); returns the commit oid."""
        with self.lock:
            repo = self.repos.get(repo_id) or self.add_repo(repo_id, owner or repo_id.split("/")[0], private)
            tree = dict(repo.commits[repo.branches["main"]])
            for path, data in files.items():
                tree[path] = Blob(data, lfs=path.endswith(LFS_EXTENSIONS))
                if tree[path].lfs:
                    self.lfs_objects[tree[path].sha256] = data
            oid = self.new_oid(repo_id)
            repo.commits[oid] = tree
            repo.titles[oid] = "seed"
            repo.branches["main"] = oid
            return oid


class HTTPFailure(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, commit: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.commit = status, message, code, commit


def _card_data(files: dict[str, Blob]) -> dict[str, Any] | None:
    readme = files.get("README.md")
    if readme is None:
        return None
    text = readme.data.decode("utf-8", "replace")
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.S)
    if not match:
        return None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ganzoo-test-hub/1"
    state: HubState  # set on the subclass the server builds

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        with self.state.lock:
            self.state.log.append((self.command, self.path, status))

    def _json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _fail(self, failure: HTTPFailure) -> None:
        headers = {"X-Error-Message": failure.message}
        if failure.code:
            headers["X-Error-Code"] = failure.code
        if failure.commit:
            headers["X-Repo-Commit"] = failure.commit
        self._json({"error": failure.message}, failure.status, headers)

    def _user(self) -> str | None:
        """The token's user; None when anonymous; 401 for a token the server does not know."""
        auth = self.headers.get("Authorization", "")
        if not auth:
            return None
        token = auth.split(" ", 1)[1].strip() if " " in auth else auth
        user = self.state.tokens.get(token)
        if user is None:
            raise HTTPFailure(401, BAD_TOKEN)
        return user

    def _repo(self, repo_id: str, user: str | None, write: bool = False) -> Repo:
        repo = self.state.repos.get(repo_id)
        if repo is None or (repo.private and user != repo.owner):
            raise HTTPFailure(404 if user else 401, "Repository not found", "RepoNotFound")
        if write and user != repo.owner:
            if user is None:
                raise HTTPFailure(401, "You must be authenticated to write to this repo")
            raise HTTPFailure(403, f"You don't have the rights to write to {repo_id}")
        return repo

    def _resolve(self, repo: Repo, revision: str) -> str:
        if revision in repo.branches:
            return repo.branches[revision]
        if re.fullmatch(r"[0-9a-f]{7,40}", revision):
            hits = [oid for oid in repo.commits if oid.startswith(revision)]
            if len(hits) == 1:
                return hits[0]
        raise HTTPFailure(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    def _info(self, repo: Repo, oid: str, card: bool = True, siblings: bool = True) -> dict[str, Any]:
        files = repo.commits[oid]
        card_data = _card_data(files) or {}
        tags = list(card_data.get("tags") or [])
        library = card_data.get("library_name")
        if library and library not in tags:
            tags.insert(0, library)
        info: dict[str, Any] = {
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.owner,
            "sha": oid,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": repo.downloads,
            "likes": 0,
            "tags": tags,
            "library_name": library,
            "pipeline_tag": card_data.get("pipeline_tag"),
            "createdAt": repo.created,
            "lastModified": repo.created,
        }
        if siblings:
            info["siblings"] = [{"rfilename": path} for path in sorted(files)]
        if card:
            info["cardData"] = card_data or None
        return info

    # --- routing ----------------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        body = self._body()  # always read the whole request first: the connection is reused
        split = urlsplit(self.path)
        parts = [unquote(p) for p in split.path.split("/")[1:]]
        raw = split.path.split("/")[1:]
        query = parse_qs(split.query)
        try:
            with self.state.lock:
                user = self._user()
                self._route(self.command, parts, raw, query, body, user)
        except HTTPFailure as failure:
            self._fail(failure)
        except Exception as exc:  # a bug in the stand-in: say so loudly
            self._json({"error": f"test hub crashed: {type(exc).__name__}: {exc}"}, 500)

    def _route(
        self, method: str, parts: list[str], raw: list[str], query: dict[str, list[str]], body: bytes, user: str | None
    ) -> None:
        if parts[:2] == ["api", "whoami-v2"] and method == "GET":
            if user is None:
                raise HTTPFailure(401, "Invalid username or password.")
            return self._json(
                {"type": "user", "name": user, "fullname": user, "orgs": [], "auth": {"type": "access_token"}}
            )
        if parts[:3] == ["api", "repos", "create"] and method == "POST":
            return self._create_repo(json.loads(body or b"{}"), user)
        if parts[:2] == ["api", "validate-yaml"] and method == "POST":
            return self._validate_yaml(json.loads(body or b"{}"))
        if parts[:2] == ["api", "models"] and len(parts) == 2 and method == "GET":
            return self._list_models(query, user)
        if parts[:2] == ["api", "models"] and len(parts) >= 4:
            repo_id = f"{parts[2]}/{parts[3]}"
            rest = parts[4:]
            if not rest and method == "GET":
                repo = self._repo(repo_id, user)
                return self._json(self._info(repo, repo.branches["main"]))
            if rest[:1] == ["revision"] and len(rest) == 2 and method == "GET":
                repo = self._repo(repo_id, user)
                return self._json(self._info(repo, self._resolve(repo, rest[1])))
            if rest[:1] == ["tree"] and len(rest) >= 2 and method == "GET":
                return self._tree(repo_id, rest[1], "/".join(rest[2:]), query, user)
            if rest == ["refs"] and method == "GET":
                repo = self._repo(repo_id, user)
                branches = [
                    {"name": n, "ref": f"refs/heads/{n}", "targetCommit": o}
                    for n, o in repo.branches.items()
                    if not n.startswith("refs/")
                ]
                prs = [
                    {"name": n, "ref": n, "targetCommit": o}
                    for n, o in repo.branches.items()
                    if n.startswith("refs/pr/")
                ]
                return self._json({"branches": branches, "converts": [], "tags": [], "pullRequests": prs})
            if rest[:1] == ["preupload"] and len(rest) == 2 and method == "POST":
                return self._preupload(repo_id, rest[1], json.loads(body or b"{}"), user)
            if rest[:1] == ["branch"] and len(rest) >= 2 and method == "POST":
                return self._branch(repo_id, "/".join(rest[1:]), json.loads(body or b"{}"), user)
            if rest[:1] == ["commit"] and len(rest) == 2 and method == "POST":
                return self._commit(repo_id, rest[1], body, query, user)
        if (
            len(parts) >= 6
            and parts[1].endswith(".git")
            and parts[2:] == ["info", "lfs", "objects", "batch"]
            and method == "POST"
        ):
            return self._lfs_batch(f"{parts[0]}/{parts[1][:-4]}", json.loads(body or b"{}"), user)
        if parts[:2] == ["__lfs__", "upload"] and len(parts) == 3 and method == "PUT":
            return self._lfs_put(parts[2], body)
        if parts[:2] == ["__lfs__", "verify"] and len(parts) == 3 and method == "POST":
            if parts[2] not in self.state.lfs_objects:
                raise HTTPFailure(404, "LFS object not found")
            return self._json({})
        if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve_file(f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]), user)
        raise HTTPFailure(404, f"no route for {method} {self.path}")

    # --- handlers ---------------------------------------------------------------------------------------------

    def _create_repo(self, payload: dict[str, Any], user: str | None) -> None:
        if user is None:
            raise HTTPFailure(401, "You must be authenticated to create a repo")
        if payload.get("type", "model") not in (None, "model"):
            raise HTTPFailure(400, "only model repos here")
        namespace = payload.get("organization") or user
        name = payload.get("name") or ""
        if namespace != user:
            raise HTTPFailure(403, f"You don't have the rights to create a model under the namespace {namespace!r}")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise HTTPFailure(400, f"invalid repo name {name!r}")
        repo_id = f"{namespace}/{name}"
        url = f"{self.server.base_url}/{repo_id}"  # type: ignore[attr-defined]
        if repo_id in self.state.repos:  # the Hub's 409 names the repo URL too (clients read it)
            return self._json(
                {"error": "You already created this model repo", "url": url},
                409,
                {"X-Error-Message": "You already created this model repo"},
            )
        private = payload.get("private") or payload.get("visibility") == "private"
        self.state.add_repo(repo_id, user, bool(private))
        self._json({"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self, payload: dict[str, Any]) -> None:
        text = payload.get("content") or ""
        match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.S)
        if match:
            try:
                data = yaml.safe_load(match.group(1))
            except yaml.YAMLError as exc:
                return self._json({"errors": [{"message": f"bad YAML: {exc}"}], "warnings": []}, 400)
            if not isinstance(data, dict):
                return self._json({"errors": [{"message": "metadata must be a YAML mapping"}], "warnings": []}, 400)
        return self._json({"errors": [], "warnings": []})

    def _list_models(self, query: dict[str, list[str]], user: str | None) -> None:
        search = (query.get("search") or [""])[0].lower()
        filters = query.get("filter") or []
        library = (query.get("library") or [None])[0]
        author = (query.get("author") or [None])[0]
        limit = int((query.get("limit") or ["1000"])[0])
        with_card = any((query.get(k) or ["False"])[0].lower() in ("true", "1") for k in ("cardData", "full"))
        full = (query.get("full") or ["False"])[0].lower() in ("true", "1")
        found = []
        for repo in self.state.repos.values():
            if repo.private and repo.owner != user:
                continue
            info = self._info(repo, repo.branches["main"], card=with_card, siblings=full)
            if search and search not in repo.repo_id.lower():
                continue
            if author and repo.owner != author:
                continue
            if library and info["library_name"] != library:
                continue
            if any(f not in info["tags"] for f in filters):
                continue
            found.append(info)
        self._json(found[:limit])

    def _tree(self, repo_id: str, revision: str, folder: str, query: dict[str, list[str]], user: str | None) -> None:
        repo = self._repo(repo_id, user)
        oid = self._resolve(repo, revision)
        recursive = (query.get("recursive") or ["False"])[0].lower() in ("true", "1")
        prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
        entries: dict[str, dict[str, Any]] = {}
        for path, blob in sorted(repo.commits[oid].items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            if "/" in rest and not recursive:
                name = prefix + rest.split("/")[0]
                entries[name] = {"type": "directory", "oid": git_blob_id(name.encode()), "size": 0, "path": name}
                continue
            if recursive:
                pieces = rest.split("/")[:-1]
                for i in range(len(pieces)):
                    name = prefix + "/".join(pieces[: i + 1])
                    entries.setdefault(
                        name, {"type": "directory", "oid": git_blob_id(name.encode()), "size": 0, "path": name}
                    )
            entry: dict[str, Any] = {"type": "file", "oid": blob.blob_id, "size": len(blob.data), "path": path}
            if blob.lfs:
                entry["lfs"] = {
                    "oid": blob.sha256,
                    "size": len(blob.data),
                    "pointerSize": len(lfs_pointer(blob.sha256, len(blob.data))),
                }
            entries[path] = entry
        if prefix and not entries:
            raise HTTPFailure(404, f"{folder} does not exist at {revision}", "EntryNotFound")
        self._json(list(entries.values()))

    def _preupload(self, repo_id: str, revision: str, payload: dict[str, Any], user: str | None) -> None:
        repo = self._repo(repo_id, user, write=True)
        oid = (
            self._resolve(repo, revision)
            if revision in repo.branches or re.fullmatch(r"[0-9a-f]{40}", revision)
            else repo.branches["main"]
        )
        files = repo.commits[oid]
        answer = []
        for item in payload.get("files", []):
            path = item["path"]
            sample = base64.b64decode(item.get("sample") or "")
            binary = path.endswith(LFS_EXTENSIONS) or b"\0" in sample
            lfs = self.state.upload_mode == "lfs" or repo_id in self.state.lfs_repos
            mode = "lfs" if lfs and binary else "regular"
            existing = files.get(path)
            remote = (existing.sha256 if existing.lfs else existing.blob_id) if existing else None
            answer.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": remote})
        self._json({"files": answer, "commitOid": oid})

    def _branch(self, repo_id: str, branch: str, payload: dict[str, Any], user: str | None) -> None:
        repo = self._repo(repo_id, user, write=True)
        if branch in repo.branches:
            raise HTTPFailure(409, f"Reference already exists: refs/heads/{branch}")
        start = payload.get("startingPoint") or "main"
        repo.branches[branch] = self._resolve(repo, start)
        self._json({})

    def _commit(self, repo_id: str, revision: str, body: bytes, query: dict[str, list[str]], user: str | None) -> None:
        repo = self._repo(repo_id, user, write=True)
        create_pr = (query.get("create_pr") or ["0"])[0] in ("1", "true", "True")
        base = self._resolve(repo, revision)
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HTTPFailure(400, "commit payload must start with a header line")
        header = lines[0]["value"]
        parent = header.get("parentCommit")
        if parent and parent != base:
            raise HTTPFailure(412, "A commit has happened since. Please refresh and try again.")
        tree = dict(repo.commits[base])
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                data = (
                    base64.b64decode(value["content"])
                    if value.get("encoding") == "base64"
                    else value["content"].encode()
                )
                tree[value["path"]] = Blob(data)
            elif key == "lfsFile":
                data = self.state.lfs_objects.get(value["oid"])
                if data is None:
                    raise HTTPFailure(422, f"LFS object {value['oid']} for {value['path']} was never uploaded")
                tree[value["path"]] = Blob(data, lfs=True)
            elif key == "deletedFile":
                if value["path"] not in tree:
                    raise HTTPFailure(404, "A file with this name doesn't exist", "EntryNotFound")
                del tree[value["path"]]
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                for path in [p for p in tree if p.startswith(prefix)]:
                    del tree[path]
            else:
                raise HTTPFailure(400, f"unknown commit operation {key!r}")
        oid = self.state.new_oid(repo_id)
        repo.commits[oid] = tree
        repo.titles[oid] = header.get("summary", "")
        base_url = self.server.base_url  # type: ignore[attr-defined]
        answer = {"commitUrl": f"{base_url}/{repo_id}/commit/{oid}", "commitOid": oid, "success": True}
        if create_pr:
            repo.prs += 1
            repo.branches[f"refs/pr/{repo.prs}"] = oid
            answer["pullRequestUrl"] = f"{base_url}/{repo_id}/discussions/{repo.prs}"
        else:
            repo.branches[revision] = oid
        self._json(answer)

    def _lfs_batch(self, repo_id: str, payload: dict[str, Any], user: str | None) -> None:
        self._repo(repo_id, user, write=payload.get("operation") == "upload")
        base_url = self.server.base_url  # type: ignore[attr-defined]
        objects = []
        for item in payload.get("objects", []):
            oid, size = item["oid"], int(item["size"])
            entry: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if oid not in self.state.lfs_objects:
                entry["actions"] = {
                    "upload": {"href": f"{base_url}/__lfs__/upload/{oid}", "header": {}},
                    "verify": {"href": f"{base_url}/__lfs__/verify/{oid}", "header": {}},
                }
            objects.append(entry)
        self._json({"transfer": "basic", "objects": objects}, headers={"Content-Type": "application/vnd.git-lfs+json"})

    def _lfs_put(self, oid: str, body: bytes) -> None:
        if hashlib.sha256(body).hexdigest() != oid:
            raise HTTPFailure(400, "uploaded bytes do not match the oid")
        self.state.lfs_objects[oid] = body
        self._send(200)

    def _resolve_file(self, repo_id: str, revision: str, path: str, user: str | None) -> None:
        repo = self._repo(repo_id, user)
        oid = self._resolve(repo, revision)
        blob = repo.commits[oid].get(path)
        if blob is None:
            raise HTTPFailure(404, "Entry not found", "EntryNotFound", commit=oid)
        headers = {"X-Repo-Commit": oid, "Accept-Ranges": "bytes"}
        if blob.lfs:
            headers["ETag"] = f'"{blob.sha256}"'
            headers["X-Linked-Etag"] = f'"{blob.sha256}"'
            headers["X-Linked-Size"] = str(len(blob.data))
        else:
            headers["ETag"] = f'"{blob.blob_id}"'
        data = blob.data
        status = 200
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
        if wanted and self.command == "GET":
            start = int(wanted.group(1))
            end = int(wanted.group(2)) if wanted.group(2) else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data = data[start : end + 1]
            status = 206
        if self.command == "GET" and path == "config.json":
            repo.downloads += 1
        self._send(status, data, headers, content_type="application/octet-stream")


class HubServer:
    """The stand-in Hub, served from a daemon thread: ``with HubServer(tokens) as hub: hub.url``."""

    def __init__(self, tokens: dict[str, str] | None = None) -> None:
        self.state = HubState(tokens or {})
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.httpd.base_url = self.url  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="test-hub", daemon=True)

    def __enter__(self) -> HubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def upload_mode(self) -> str:
        return self.state.upload_mode

    @upload_mode.setter
    def upload_mode(self, mode: str) -> None:
        assert mode in ("regular", "lfs")
        self.state.upload_mode = mode

    def use_lfs(self, repo_id: str) -> None:
        """Answer "lfs" for this repo's binary files at preupload (a client with xet disabled then uses the LFS batch
        API)."""
        with self.state.lock:
            self.state.lfs_repos.add(repo_id)

    def put_repo(self, repo_id: str, files: dict[str, bytes], private: bool = False) -> str:
        return self.state.put_repo(repo_id, files, private)

    def files(self, repo_id: str, revision: str = "main") -> dict[str, Blob]:
        with self.state.lock:
            repo = self.state.repos[repo_id]
            return dict(repo.commits[repo.branches[revision]])

    def requests(self) -> list[tuple[str, str, int]]:
        with self.state.lock:
            return list(self.state.log)


if __name__ == "__main__":  # handy by hand: python tests/hubserver.py  (token "hf_local" for user "me")
    with HubServer({"hf_local": "me"}) as hub:
        print(f"HF_ENDPOINT={hub.url} HF_TOKEN=hf_local", flush=True)
        try:
            hub.thread.join()
        except KeyboardInterrupt:
            pass
