"""What the Clio pushes pick up next: the comments and documents on imported matters whose push has not
started, or has not ended and may be tried again, the first 200 in the order they were made. The pushes ask
the work items' and the documents' areas for them a chunk at a time; this checks the answer is the one the
single join over the three areas' tables gave, past one chunk, with pushes done, failing and given up."""

from __future__ import annotations

import uuid

from emulator.integrations.clio.pushes import BATCH, MAX_ATTEMPTS, SCAN
from emulator.workitem_reads import WorkItemReads
from tests.helpers.clio_sync import imported_matter

JOINED = {
    "communication": (
        "SELECT c.id, c.comment, c.author, c.created, m.clio_id, m.work_item_id, p.step, p.attempts"
        " FROM comments c JOIN clio_matters m ON m.work_item_id = c.work_item_id"
        " LEFT JOIN clio_pushes p ON p.kind='communication' AND p.source_id = c.id"
        " WHERE p.step IS NULL OR (p.step != 'done' AND p.attempts < ?) ORDER BY c.created, c.id LIMIT ?"
    ),
    "document": (
        "SELECT d.id, d.file_name, d.content_type, m.clio_id, m.work_item_id, p.step, p.attempts,"
        " p.clio_id AS clio_document FROM documents d JOIN clio_matters m ON m.work_item_id = d.work_item_id"
        " LEFT JOIN clio_pushes p ON p.kind='document' AND p.source_id = d.id"
        " WHERE p.step IS NULL OR (p.step != 'done' AND p.attempts < ?) ORDER BY d.created, d.id LIMIT ?"
    ),
}


STATES = [(None, 0), ("done", 1), ("sending", MAX_ATTEMPTS), ("sending", 1), ("creating", 0)]


def _fill(em, item_id: str, other_id: str, clio_id: int) -> None:
    """Past one chunk of comments and documents, on the imported matter and on a work item not from Clio,
    a few created at the same instant, with pushes done, given up, failing once and under way (the first chunk
    almost all done: the batch is found in the chunks after it)."""
    count = SCAN + BATCH + 300
    with em.store.transaction() as tx:
        for i in range(count):
            on = item_id if i % 3 else other_id
            created = f"2026-01-01T00:{(i // 7) // 60:02d}:{(i // 7) % 60:02d}Z"  # seven at each instant
            cid, did = str(uuid.UUID(int=i + 1)), str(uuid.UUID(int=10**6 + i))
            tx.execute("INSERT INTO comments VALUES (?,?,?,?,?)", (cid, on, f"note {i}", None, created))
            tx.execute(
                "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                (did, on, "/", f"d{i}.txt", "text/plain", 1, "0" * 64, None, created),
            )
            for kind, source in (("communication", cid), ("document", did)):
                step, attempts = STATES[i % 5] if i >= SCAN - 100 else ("done", 1)  # the first chunk: few to push
                if step is not None:
                    tx.execute(
                        "INSERT INTO clio_pushes(kind, source_id, clio_matter_id, clio_id, step, attempts, updated)"
                        " VALUES (?,?,?,?,?,?,?)",
                        (kind, source, clio_id, 7000 + i if step != "creating" else None, step, attempts, created),
                    )


def test_the_pushes_pick_up_what_the_one_join_picked_up(env):  # noqa: F811
    app, em = env
    clio_id, item_id = imported_matter(app, em)
    other = WorkItemReads(em.store).pickable(50)
    other_id = next(w["id"] for w in other if w["id"] != item_id)
    _fill(em, item_id, other_id, clio_id)
    sources = {"communication": WorkItemReads(em.store).comments_from, "document": em.documents.listed_from}
    for kind, sql in JOINED.items():
        with em.store.read() as conn:
            joined = [dict(r) for r in conn.execute(sql, (MAX_ATTEMPTS, BATCH))]
        picked = em.clio.pushes._to_push(kind, sources[kind])
        assert len(picked) == BATCH, kind  # a full batch, found past the first chunk
        assert [{k: r[k] for k in joined[0]} for r in picked] == joined, kind
    with em.store.transaction() as tx:  # nothing left but what was given up or done: nothing to push
        tx.execute("UPDATE clio_pushes SET step='done'")
        tx.execute(
            "INSERT INTO clio_pushes(kind, source_id, clio_matter_id, step, updated)"
            " SELECT 'communication', id, ?, 'done', created FROM comments WHERE id NOT IN"
            " (SELECT source_id FROM clio_pushes WHERE kind='communication')",
            (clio_id,),
        )
    assert em.clio.pushes._to_push("communication", sources["communication"]) == []
