"""Question seeds for cross-view benchmarks: facts from the database, answers, distractors,
and the export that turns them into a benchmark folder (questions.jsonl + images)."""
