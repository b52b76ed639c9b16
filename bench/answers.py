"""Suggested-answer quality on the demo repository: top-1 sentence accuracy, "no answer" precision.

The demo repository is the Alfresco simulator's generated content (``generate_repository()``,
the same seed ``quarry dev demo`` serves); its documents are indexed into a throw-away index
prefix and every question of ``tests/data/answers-demo.jsonl`` is asked through the product's
query path (rerank) and the suggested-answer stage. A question's answer is right when the
suggested sentence is the one written down for it; unanswerable questions (no sentence given)
must get no answer.

    python -m bench.answers            # prints: answers: questions= top1= no_answer_precision=
"""

from __future__ import annotations

import argparse
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from acl import AccessControlList, Principal
from bench.common import ROOT, bench_runtime
from connectors.models import Document
from devtools.alfresco_sim import generate_repository
from search.answers import MIN_CONFIDENCE, suggest_answer
from search.query import QueryRequest
from search.runtime import Runtime

QUESTIONS = ROOT / "tests" / "data" / "answers-demo.jsonl"
SOURCE = "demo"


@dataclass
class Score:
    questions: int
    answerable: int
    top1: float
    no_answer_precision: float
    no_answer_recall: float
    wrong: list[tuple[str, str | None]]


def load_questions(path: Path = QUESTIONS) -> list[tuple[str, str | None]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(r["question"], r["answer"]) for r in rows]


def demo_documents() -> list[Document]:
    """The demo repository's indexable text documents, readable by everyone here: the
    benchmark measures answering, the ACL path is tested elsewhere."""
    repo = generate_repository()
    docs: list[Document] = []
    for node_id in sorted(repo.indexable_ids()):
        node = repo.nodes[node_id]
        if node.content is None or not node.content.text.strip():
            continue
        docs.append(
            Document(
                id=f"demo:{node.id}",
                title=node.name,
                text=node.content.text,
                content_type="text/plain",
                acl=AccessControlList.public(),
            )
        )
    return docs


def index_demo(runtime: Runtime) -> int:
    docs = demo_documents()
    runtime.pipeline.write_batch(SOURCE, docs)
    runtime.writer.refresh()
    return len(docs)


def evaluate(
    runtime: Runtime,
    questions: list[tuple[str, str | None]],
    min_confidence: float = MIN_CONFIDENCE,
) -> Score:
    principal = Principal.anonymous()
    engine = runtime.engine
    right = answerable = silent = silent_right = unanswerable = 0
    wrong: list[tuple[str, str | None]] = []
    for question, expected in questions:
        response = engine.search(QueryRequest(query_text=question, page_size=10), principal)
        answer = suggest_answer(
            runtime.embedder, " ".join(question.split()), response.results, min_confidence
        )
        got = answer.answer_text if answer is not None else None
        if expected is None:
            unanswerable += 1
        else:
            answerable += 1
            right += got == expected
        if got is None:
            silent += 1
            silent_right += expected is None
        if got != expected:
            wrong.append((question, got))
    return Score(
        questions=len(questions),
        answerable=answerable,
        top1=right / answerable if answerable else float("nan"),
        no_answer_precision=silent_right / silent if silent else float("nan"),
        no_answer_recall=silent_right / unanswerable if unanswerable else float("nan"),
        wrong=wrong,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE)
    parser.add_argument("--show-wrong", action="store_true")
    args = parser.parse_args()
    runtime = bench_runtime(f"bench-answers-{uuid.uuid4().hex[:8]}")
    try:
        runtime.index.ensure()
        documents = index_demo(runtime)
        score = evaluate(runtime, load_questions(args.questions), args.min_confidence)
    finally:
        runtime.es.indices.delete(
            index=f"{runtime.settings.index_prefix}-*",
            ignore_unavailable=True,
            allow_no_indices=True,
        )
    if args.show_wrong:
        for question, got in score.wrong:
            print(f"  {question!r} -> {got!r}")
    print(
        f"answers: questions={score.questions} top1={score.top1:.3f} "
        f"no_answer_precision={score.no_answer_precision:.3f} "
        f"(answerable={score.answerable} no_answer_recall={score.no_answer_recall:.3f} "
        f"documents={documents} min_confidence={args.min_confidence})"
    )


if __name__ == "__main__":
    main()
