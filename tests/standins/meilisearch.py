"""A Meilisearch stand-in that follows its v1 wire contract, for offline tests.

What it keeps from the real server: `Authorization: Bearer <key>` (401
`missing_authorization_header`, 403 `invalid_api_key`); asynchronous writes
answering 202 with a summarized task `{taskUid, indexUid, status: "enqueued",
type, enqueuedAt}` and `GET /tasks/{uid}`; index creation, settings
(`filterableAttributes` is enforced: filtering on anything else is 400
`invalid_search_filter`), documents add/replace and delete; `POST
/indexes/{uid}/search` answering `{hits, query, processingTimeMs, limit,
offset, estimatedTotalHits}` with `_formatted` (highlight and crop) and
`_rankingScore`; errors as `{message, code, type, link}`.

What it simplifies: matching is per word (the last query word also as a
prefix) with Meilisearch's default typo budget (1 typo from 5 letters, 2 from
9), the "last" matching strategy, and a plain score. Filters support the
`attr = "value"`, `attr >= n` / `<` / `>` / `<=` forms joined by AND.
"""

import re
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

_WORD = re.compile(r"\w+", re.UNICODE)
_CONDITION = re.compile(
    r"^\s*(?P<attr>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>=|!=|>=|<=|>|<)\s*"
    r'(?:"(?P<str>(?:[^"\\]|\\.)*)"|(?P<num>-?\d+(?:\.\d+)?))\s*$'
)
_AND = re.compile(r"\s+AND\s+")


def _error(status: int, code: str, message: str, kind: str = "invalid_request") -> JSONResponse:
    return JSONResponse(
        {
            "message": message,
            "code": code,
            "type": kind,
            "link": f"https://docs.meilisearch.com/errors#{code}",
        },
        status_code=status,
    )


def _typos_allowed(word: str) -> int:
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (limit + 1) once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _matches(query_word: str, word: str, prefix: bool) -> bool:
    if word == query_word or (prefix and word.startswith(query_word)):
        return True
    budget = _typos_allowed(query_word)
    if budget == 0:
        return False
    if _distance(query_word, word, budget) <= budget:
        return True
    if prefix:  # the last query word may be the typo'd start of a longer word
        lengths = range(max(len(query_word) - budget, 1), len(query_word) + budget + 1)
        return any(_distance(query_word, word[:n], budget) <= budget for n in lengths)
    return False


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


class MeilisearchStandIn:
    """The stand-in's state and its ASGI app (`.app`), served by `skyras.testing.serve`."""

    def __init__(self, master_key: str | None = "standin-master-key") -> None:
        self.master_key = master_key
        self.indexes: dict[str, dict[str, Any]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.app = self._build()

    # -- tasks ---------------------------------------------------------------

    def _task(
        self, index_uid: str | None, kind: str, error: dict[str, Any] | None = None
    ) -> JSONResponse:
        uid = len(self.tasks)
        now = datetime.now(UTC).isoformat()
        self.tasks[uid] = {
            "uid": uid,
            "indexUid": index_uid,
            "status": "failed" if error else "succeeded",
            "type": kind,
            "details": {},
            "error": error,
            "duration": "PT0.001S",
            "enqueuedAt": now,
            "startedAt": now,
            "finishedAt": now,
        }
        # The real server answers before processing: the summary always says enqueued.
        summary = {
            "taskUid": uid,
            "indexUid": index_uid,
            "status": "enqueued",
            "type": kind,
            "enqueuedAt": now,
        }
        return JSONResponse(summary, status_code=202)

    def _index(self, uid: str, primary_key: str | None = None) -> dict[str, Any]:
        if uid not in self.indexes:
            self.indexes[uid] = {
                "primaryKey": primary_key,
                "documents": {},
                "settings": {
                    "searchableAttributes": ["*"],
                    "filterableAttributes": [],
                    "sortableAttributes": [],
                },
            }
        index = self.indexes[uid]
        if index["primaryKey"] is None and primary_key:
            index["primaryKey"] = primary_key
        return index

    # -- search --------------------------------------------------------------

    def _filter(self, index: dict[str, Any], expression: Any) -> Any:
        """A predicate for the filter, or an error response."""
        if expression is None or expression == "":
            return lambda _doc: True
        if isinstance(expression, list):
            expression = " AND ".join(f"({e})" if isinstance(e, str) else "" for e in expression)
            expression = expression.replace("(", "").replace(")", "")
        allowed = set(index["settings"].get("filterableAttributes", []))
        conditions = []
        for part in _AND.split(str(expression).strip()):
            match = _CONDITION.match(part)
            if not match:
                return _error(
                    400, "invalid_search_filter", f"Was expecting a condition, found `{part}`."
                )
            attr = match["attr"]
            if attr not in allowed:
                return _error(
                    400,
                    "invalid_search_filter",
                    f"Attribute `{attr}` is not filterable. Available filterable attributes are: "
                    f"`{', '.join(sorted(allowed))}`.",
                )
            value: Any = (
                re.sub(r"\\(.)", r"\1", match["str"])
                if match["str"] is not None
                else float(match["num"])
            )
            conditions.append((attr, match["op"], value))

        def predicate(doc: dict[str, Any]) -> bool:
            for attr, op, value in conditions:
                field = doc.get(attr)
                values = field if isinstance(field, list) else [field]
                if op in {"=", "!="}:
                    hit = any(str(v) == str(value) for v in values if v is not None)
                    if hit != (op == "="):
                        return False
                else:
                    numbers = [v for v in values if isinstance(v, (int, float))]
                    compare = {
                        ">": lambda a, b: a > b,
                        ">=": lambda a, b: a >= b,
                        "<": lambda a, b: a < b,
                        "<=": lambda a, b: a <= b,
                    }[op]
                    if not any(compare(n, value) for n in numbers):
                        return False
            return True

        return predicate

    def _searchable(self, index: dict[str, Any], doc: dict[str, Any]) -> list[str]:
        attrs = index["settings"].get("searchableAttributes") or ["*"]
        if attrs == ["*"]:
            return [k for k in doc if k != index["primaryKey"]]
        return [a for a in attrs if a in doc]

    def _score(self, words: list[str], index: dict[str, Any], doc: dict[str, Any]) -> float | None:
        attrs = self._searchable(index, doc)
        total = 0.0
        for position, query_word in enumerate(words):
            prefix = position == len(words) - 1
            best = 0.0
            for rank, attr in enumerate(attrs):
                for word in _WORD.findall(_text(doc.get(attr)).lower()):
                    if _matches(query_word, word, prefix):
                        exact = 1.0 if word == query_word else 0.8
                        best = max(best, exact * (1.0 - rank * 0.05))
            if best == 0.0:
                return None
            total += best
        return total / max(len(words), 1)

    def _format(self, text: str, words: list[str], pre: str, post: str, crop: int | None) -> str:
        tokens = re.split(r"(\w+)", text)
        first_match = None
        for i, token in enumerate(tokens):
            low = token.lower()
            if (
                low
                and _WORD.fullmatch(low)
                and any(_matches(w, low, p == len(words) - 1) for p, w in enumerate(words))
            ):
                tokens[i] = f"{pre}{token}{post}"
                if first_match is None:
                    first_match = i
        if crop is None:
            return "".join(tokens)
        word_positions = [
            i for i, t in enumerate(tokens) if _WORD.fullmatch(t.replace(pre, "").replace(post, ""))
        ]
        if len(word_positions) <= crop:
            return "".join(tokens)
        center = word_positions.index(first_match) if first_match in word_positions else 0
        start = max(center - crop // 2, 0)
        chosen = word_positions[start : start + crop]
        out = "".join(tokens[chosen[0] : chosen[-1] + 1])
        prefix = "…" if chosen[0] > word_positions[0] else ""
        suffix = "…" if chosen[-1] < word_positions[-1] else ""
        return f"{prefix}{out}{suffix}"

    def search(self, uid: str, body: dict[str, Any]) -> JSONResponse:
        started = time.perf_counter()
        index = self.indexes.get(uid)
        if index is None:
            return _error(404, "index_not_found", f"Index `{uid}` not found.")
        predicate = self._filter(index, body.get("filter"))
        if isinstance(predicate, JSONResponse):
            return predicate
        query = str(body.get("q") or "")
        words = [w.lower() for w in _WORD.findall(query)][:10]
        limit = int(body.get("limit", 20))
        offset = int(body.get("offset", 0))
        candidates = [d for d in index["documents"].values() if predicate(d)]
        scored: list[tuple[float, dict[str, Any]]] = []
        # The "last" matching strategy: drop query words from the end until something matches.
        used = list(words)
        while True:
            scored = []
            for doc in candidates:
                score = self._score(used, index, doc) if used else 1.0
                if score is not None:
                    scored.append((score, doc))
            if scored or len(used) <= 1:
                break
            used = used[:-1]
        scored.sort(key=lambda pair: -pair[0])
        retrieve = body.get("attributesToRetrieve") or ["*"]
        highlight = set(body.get("attributesToHighlight") or [])
        crop = set(body.get("attributesToCrop") or [])
        pre = body.get("highlightPreTag", "<em>")
        post = body.get("highlightPostTag", "</em>")
        crop_length = int(body.get("cropLength", 10))
        hits = []
        for score, doc in scored[offset : offset + limit]:
            hit = dict(doc) if retrieve == ["*"] else {k: doc[k] for k in retrieve if k in doc}
            if highlight or crop:
                formatted = {}
                for key, value in hit.items():
                    text = _text(value)
                    if key in highlight or "*" in highlight:
                        text = self._format(
                            text, used, pre, post, crop_length if key in crop else None
                        )
                    elif key in crop:
                        text = self._format(text, [], pre, post, crop_length)
                    formatted[key] = text if not isinstance(value, (int, float)) else str(value)
                hit["_formatted"] = formatted
            if body.get("showRankingScore"):
                hit["_rankingScore"] = round(score, 4)
            hits.append(hit)
        return JSONResponse(
            {
                "hits": hits,
                "query": query,
                "processingTimeMs": int((time.perf_counter() - started) * 1000),
                "limit": limit,
                "offset": offset,
                "estimatedTotalHits": len(scored),
            }
        )

    # -- the HTTP surface ------------------------------------------------------

    def _build(self) -> FastAPI:
        app = FastAPI(title="Meilisearch stand-in")

        @app.middleware("http")
        async def authorize(request: Request, call_next: Any) -> Any:
            self.requests.append((request.method, request.url.path))
            if self.master_key and request.url.path != "/health":
                header = request.headers.get("authorization", "")
                if not header:
                    return _error(
                        401,
                        "missing_authorization_header",
                        "The Authorization header is missing. It must use the bearer authorization method.",
                        "auth",
                    )
                if header != f"Bearer {self.master_key}":
                    return _error(
                        403, "invalid_api_key", "The provided API key is invalid.", "auth"
                    )
            return await call_next(request)

        @app.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "available"}

        @app.post("/indexes")
        async def create_index(request: Request) -> JSONResponse:
            body = await request.json()
            uid = body.get("uid")
            if not isinstance(uid, str) or not uid:
                return _error(400, "missing_index_uid", "Missing field `uid`.")
            if uid in self.indexes:
                return self._task(
                    uid,
                    "indexCreation",
                    {
                        "message": f"Index `{uid}` already exists.",
                        "code": "index_already_exists",
                        "type": "invalid_request",
                        "link": "https://docs.meilisearch.com/errors#index_already_exists",
                    },
                )
            self._index(uid, body.get("primaryKey"))
            return self._task(uid, "indexCreation")

        @app.patch("/indexes/{uid}/settings")
        async def update_settings(uid: str, request: Request) -> JSONResponse:
            body = await request.json()
            self._index(uid)["settings"].update(body)
            return self._task(uid, "settingsUpdate")

        @app.get("/indexes/{uid}/settings")
        async def get_settings(uid: str) -> Any:
            if uid not in self.indexes:
                return _error(404, "index_not_found", f"Index `{uid}` not found.")
            return self.indexes[uid]["settings"]

        @app.post("/indexes/{uid}/documents")
        async def add_documents(uid: str, request: Request) -> JSONResponse:
            body = await request.json()
            if not isinstance(body, list):
                body = [body]
            index = self._index(uid, request.query_params.get("primaryKey"))
            key = index["primaryKey"] or "id"
            index["primaryKey"] = key
            for doc in body:
                if key not in doc:
                    return self._task(
                        uid,
                        "documentAdditionOrUpdate",
                        {
                            "message": f"Document doesn't have a `{key}` attribute",
                            "code": "missing_document_id",
                            "type": "invalid_request",
                            "link": "https://docs.meilisearch.com/errors#missing_document_id",
                        },
                    )
            for doc in body:
                index["documents"][str(doc[key])] = doc
            return self._task(uid, "documentAdditionOrUpdate")

        @app.get("/indexes/{uid}/documents/{doc_id}")
        async def get_document(uid: str, doc_id: str) -> Any:
            doc = self.indexes.get(uid, {}).get("documents", {}).get(doc_id)
            if doc is None:
                return _error(404, "document_not_found", f"Document `{doc_id}` not found.")
            return doc

        @app.delete("/indexes/{uid}/documents/{doc_id}")
        async def delete_document(uid: str, doc_id: str) -> JSONResponse:
            if uid in self.indexes:
                self.indexes[uid]["documents"].pop(doc_id, None)
            return self._task(uid, "documentDeletion")

        @app.post("/indexes/{uid}/search")
        async def search(uid: str, request: Request) -> JSONResponse:
            return self.search(uid, await request.json())

        @app.get("/tasks/{task_uid}")
        async def get_task(task_uid: int) -> Any:
            task = self.tasks.get(task_uid)
            if task is None:
                return _error(404, "task_not_found", f"Task `{task_uid}` not found.")
            return task

        return app
