"""`helloword eval …`: the scripted scenarios, the tau-retail replays and the simulated customers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from config import get_settings
from terminal import fail, out, progress_bar


@click.group("eval")
def eval_group() -> None:
    """Evaluations and replays."""


@eval_group.command("scenarios")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None, help="Folder of scenario YAML files.")
@click.option("--only", default=None, help="Run the scenarios whose id contains this text.")
@click.option("--report", type=click.Path(path_type=Path), default=Path("evals-report.json"), show_default=True)
@click.option(
    "--min-pass-rate",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Exit with an error only when fewer scenarios pass than this share.",
)
def eval_scenarios(directory: Path | None, only: str | None, report: Path, min_pass_rate: float) -> None:
    """Play the scripted customer conversations through the agent on a fresh demo shop each."""
    from evals.scenarios import SCENARIO_DIR, ScenarioError, load_scenarios, run_scenarios

    try:
        scenarios = load_scenarios(directory or SCENARIO_DIR)
    except ScenarioError as e:
        fail(str(e))
    if only:
        scenarios = [s for s in scenarios if only in s["id"]]
    if not scenarios:
        fail("no scenarios to run")
    with progress_bar("Scenarios") as update:
        _, summary = run_scenarios(scenarios, report, progress=update)
    for title, key in (("language", "by_language"), ("intent", "by_intent")):
        table = Table(title=f"Scenarios by {title}")
        for column in (title, "scenarios", "pass rate", "resolved without a human", "mean turns"):
            table.add_column(column, justify="left" if column == title else "right")
        for name, row in summary[key].items():
            table.add_row(
                name,
                str(row["scenarios"]),
                f"{row['pass_rate']:.0%}",
                f"{row['resolved_without_human']:.0%}",
                f"{row['mean_turns']:.1f}",
            )
        out.print(table)
    out.print(f"Passed {summary['passed']} of {summary['scenarios']} in {summary['seconds']} s; report: {report}")
    for scenario_id, failures in summary["failures"].items():
        out.print(f"  {scenario_id}: " + "; ".join(failures), highlight=False, soft_wrap=True)
    if summary["passed"] < min_pass_rate * summary["scenarios"]:
        sys.exit(1)


@eval_group.command("conversations")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of conversation YAML files.",
)
@click.option("--only", default=None, help="Run the conversations whose id contains this text.")
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), default=Path("conversations-report.json"), show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of tables.")
def eval_conversations(directory: Path | None, only: str | None, report: Path, as_json: bool) -> None:
    """The blind multi-turn conversations: the end state (the actions done, a human or not), the
    writes nobody asked for, and whether every reply is in the customer's language."""
    from evals.scenarios import CONVERSATION_DIR, ScenarioError, as_blind, load_scenarios, run_scenarios

    try:
        conversations = load_scenarios(directory or CONVERSATION_DIR)
    except ScenarioError as e:
        fail(str(e))
    if only:
        conversations = [c for c in conversations if only in c["id"]]
    if not conversations:
        fail("no conversations to run")
    for conversation in conversations:
        as_blind(conversation)
        conversation.setdefault("intent", conversation.get("goal", "other"))
    with progress_bar("Conversations") as update:
        _, summary = run_scenarios(conversations, report, progress=update)
    if as_json:
        click.echo(json.dumps({k: v for k, v in summary.items() if k != "by_intent"}, ensure_ascii=False))
        return
    table = Table(title="Blind conversations by language")
    for column in ("language", "conversations", "right end state", "ended with a human"):
        table.add_column(column, justify="left" if column == "language" else "right")
    for name, row in summary["by_language"].items():
        table.add_row(name, str(row["scenarios"]), f"{row['pass_rate']:.0%}", f"{1 - row['resolved_without_human']:.0%}")
    out.print(table)
    out.print(
        f"Right end state in {summary['passed']} of {summary['scenarios']}; writes nobody asked for: "
        f"{summary['unexpected_writes']}; every reply in the customer's language in "
        f"{summary['replies_in_language']} of {summary['scenarios']} ({summary['seconds']} s); report: {report}"
    )
    for conversation_id, failures in summary["failures"].items():
        out.print(f"  {conversation_id}: " + "; ".join(failures), highlight=False, soft_wrap=True)


@eval_group.command("retrieval")
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder of <lang>.yaml questions."
)
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write every miss as JSON.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of a table.")
def eval_retrieval(directory: Path | None, report: Path | None, as_json: bool) -> None:
    """Policy retrieval hit@1 on the blind policy questions, per language (run `helloword kb ingest` first)."""
    from evals.retrieval import POLICY_QUESTIONS_DIR, evaluate_retrieval, load_questions
    from knowledge.store import open_knowledge_base, profile_name

    settings = get_settings()
    try:
        questions = load_questions(directory or POLICY_QUESTIONS_DIR)
    except ValueError as e:
        fail(str(e))
    if not questions:
        fail("no policy questions found")
    from agent.understanding import IntentClassifier
    from knowledge.embedders import make_embedder

    knowledge = open_knowledge_base(settings)
    classifier = IntentClassifier(make_embedder(settings.embedder, settings.embedder_model))
    with progress_bar("Questions") as update:
        result = evaluate_retrieval(
            knowledge, classifier, questions, profile=profile_name(settings.policy_profile), progress=update
        )
    if result["hit_at_3"] == 0 and not knowledge.search("return", k=1, profile=profile_name(settings.policy_profile)):
        fail("the knowledge base is empty: run `helloword kb ingest`")
    if report is not None:
        report.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    summary = {k: v for k, v in result.items() if k != "misses"}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    table = Table(title="Policy retrieval by language")
    for column in ("language", "questions", "hit@1", "hit@3", "first hit in the language"):
        table.add_column(column, justify="left" if column == "language" else "right")
    for name, row in result["by_language"].items():
        table.add_row(
            name, str(row["questions"]), f"{row['hit_at_1']:.0%}", f"{row['hit_at_3']:.0%}", f"{row['in_language']:.0%}"
        )
    out.print(table)
    out.print(
        f"{result['questions']} questions: hit@1 {result['hit_at_1']:.1%}, hit@3 {result['hit_at_3']:.1%}, "
        f"first hit in the question's language {result['in_language']:.1%} ({result['seconds']} s)"
    )


@eval_group.command("understanding")
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder of <lang>.yaml item files."
)
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the full report (every miss) as JSON."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of tables.")
def eval_understanding(directory: Path | None, report: Path | None, as_json: bool) -> None:
    """Intent accuracy and macro-F1 on the blind single messages, per language and per intent."""
    from agent.understanding import IntentClassifier
    from evals.understanding import UNDERSTANDING_DIR, EvalSetError, evaluate, load_items
    from knowledge.embedders import make_embedder

    settings = get_settings()
    try:
        items = load_items(directory or UNDERSTANDING_DIR)
    except EvalSetError as e:
        fail(str(e))
    if not items:
        fail("no evaluation items found")
    cache = settings.resolved_cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    classifier = IntentClassifier(make_embedder(settings.embedder, settings.embedder_model), cache_dir=cache)
    with progress_bar("Messages") as update:
        result = evaluate(classifier, items, progress=update)
    if report is not None:
        report.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    summary = {k: v for k, v in result.items() if k not in ("misses", "missed_orders")}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    for title, key in (("language", "by_language"), ("intent", "by_intent")):
        table = Table(title=f"Understanding by {title}")
        for column in (title, "messages", "accuracy", "macro-F1"):
            table.add_column(column, justify="left" if column == title else "right")
        for name, row in result[key].items():
            table.add_row(name, str(row["items"]), f"{row['accuracy']:.1%}", f"{row['macro_f1']:.3f}")
        out.print(table)
    confusion = Table(title="Most frequent mistakes")
    for column in ("expected", "read as", "messages"):
        confusion.add_column(column)
    for row in result["confusion"][:15]:
        confusion.add_row(row["expected"], row["guessed"], str(row["count"]))
    out.print(confusion)
    out.print(
        f"{result['items']} messages with the {classifier.method}: accuracy {result['accuracy']:.1%}, "
        f"macro-F1 {result['macro_f1']:.3f}, in-scope read as other {result['in_scope_read_as_other']:.1%}, "
        f"order numbers found {result['order_numbers_found']:.1%}, language detected {result['language_detected']:.1%} "
        f"({result['seconds']} s)"
    )


@eval_group.command("tau-chat")
@click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=Path), help="Folder with users/orders/products.json."
)
@click.option("--tasks", "tasks_file", required=True, type=click.Path(path_type=Path))
@click.option("--reference", "reference_file", required=True, type=click.Path(path_type=Path))
@click.option("--show", is_flag=True, help="Print the conversations of unresolved tasks.")
def eval_tau_chat(data_dir: Path, tasks_file: Path, reference_file: Path, show: bool) -> None:
    """Serve tau-retail customers through the agent (cancel, address change, return) and
    count the tasks whose end state matches the reference."""
    from commerce.tau_retail import TauRetailFormatError, load_tau_retail
    from evals.tau_chat import replay_conversations
    from evals.tau_retail import TaskFileError, load_json_list

    try:
        load_tau_retail(data_dir)
        tasks, reference = load_json_list(tasks_file), load_json_list(reference_file)
    except (TauRetailFormatError, TaskFileError) as e:
        fail(str(e))
    with progress_bar("Conversations") as update:
        summary = replay_conversations(data_dir, tasks, reference, progress=update, cache_dir=get_settings().resolved_cache_dir)
    out.print(
        f"Tasks: {summary.tasks}; stated in a message or two: {summary.eligible}; "
        f"resolved by the agent to the reference end state: {summary.resolved} of {summary.eligible}"
    )
    for item in summary.unresolved:
        out.print(f"  task {item['index']}: " + "; ".join(item["problems"]), highlight=False, soft_wrap=True)
        if show:
            for line in item["transcript"]:
                out.print(f"    customer: {line['customer']}\n    agent: {line['agent']}", highlight=False, soft_wrap=True)


def _parse_task_ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        fail(f"--task-ids takes task indexes separated by commas (e.g. 0,3,5), not {text!r}")
    if not ids:
        fail("--task-ids names no task")
    return list(dict.fromkeys(ids))


@eval_group.command("simulate")
@click.option("--tasks", "tasks_file", required=True, type=click.Path(path_type=Path), help="Tasks in tau-retail form.")
@click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=Path), help="Folder with users/orders/products.json."
)
@click.option(
    "--reference",
    "reference_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Expected end states; by default the reference_*.json beside the tasks file (tasks_dev.json → reference_dev.json).",
)
@click.option("--trials", default=1, show_default=True, type=click.IntRange(1, 100), help="Conversations per task and language.")
@click.option(
    "--customer-language",
    "customer_languages",
    multiple=True,
    default=("en",),
    show_default=True,
    help="The language the simulated customer writes in; repeat it (or separate codes by commas) for several.",
)
@click.option("--customer-model", default=None, help="The customer's model; the agent's HELLOWORD_LLM_MODEL by default.")
@click.option("--customer-base-url", default=None, help="The customer's OpenAI-compatible endpoint; the agent's by default.")
@click.option("--customer-api-key", default=None, help="The customer's API key; the agent's by default.")
@click.option(
    "--customer-temperature",
    default=0.7,
    show_default=True,
    type=click.FloatRange(0, 2),
    help="The customer model's temperature.",
)
@click.option("--task-ids", default=None, help="Only these task indexes, e.g. 0,3,5.")
@click.option("--limit", default=None, type=click.IntRange(1), help="Only the first N tasks.")
@click.option(
    "--max-turns", default=20, show_default=True, type=click.IntRange(1, 200), help="Customer messages per conversation."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def eval_simulate(
    tasks_file: Path,
    data_dir: Path,
    reference_file: Path | None,
    trials: int,
    customer_languages: tuple[str, ...],
    customer_model: str | None,
    customer_base_url: str | None,
    customer_api_key: str | None,
    customer_temperature: float,
    task_ids: str | None,
    limit: int | None,
    max_turns: int,
    as_json: bool,
) -> None:
    """A model plays each task's customer, in the chosen language, and the agent serves them
    with its LLM brain under the tau-retail profile on a fresh copy of the data; a trial
    succeeds when the end state matches the reference and every expected output was said.
    Reports pass^1 … pass^k per customer language, turns, model calls and tokens per task.

    The agent's model comes from the settings (HELLOWORD_LLM_BASE_URL, HELLOWORD_LLM_API_KEY or
    OPENAI_API_KEY, HELLOWORD_LLM_MODEL); the customer's from the --customer-* options."""
    from agent.language import LANGUAGE_NAMES
    from commerce.tau_retail import TauRetailFormatError, load_tau_retail
    from evals.simulate import ModelEndpoint, SimulationError, language_name, run_simulation
    from evals.tau_retail import TaskFileError, load_json_list

    if task_ids is not None and limit is not None:
        fail("--task-ids and --limit cannot be used together")
    codes = (code.strip().lower() for item in customer_languages for code in item.split(","))
    languages = list(dict.fromkeys(code for code in codes if code))
    unknown = [code for code in languages if code not in LANGUAGE_NAMES]
    if unknown or not languages:
        fail(f"unknown customer language {', '.join(unknown) or '(none)'}; choose from {', '.join(LANGUAGE_NAMES)}")
    if reference_file is None:
        if not tasks_file.name.startswith("tasks"):
            fail(f"{tasks_file}: cannot tell which reference file belongs to it; name it with --reference")
        reference_file = tasks_file.with_name("reference" + tasks_file.name.removeprefix("tasks"))
    try:
        tasks = load_json_list(tasks_file)
        reference = load_json_list(reference_file)
        load_tau_retail(data_dir)
    except (TauRetailFormatError, TaskFileError) as e:
        fail(str(e))
    if task_ids is not None:
        indexes = _parse_task_ids(task_ids)
        outside = [i for i in indexes if not 0 <= i < len(tasks)]
        if outside:
            missing = ", ".join(map(str, outside))
            fail(f"--task-ids: no task {missing} in {tasks_file} ({len(tasks)} tasks, 0 to {len(tasks) - 1})")
    else:
        indexes = list(range(min(limit, len(tasks)) if limit is not None else len(tasks)))
    if not indexes:
        fail(f"{tasks_file} holds no tasks")

    settings = get_settings()
    if not settings.llm_base_url and not settings.resolved_llm_api_key:
        fail("the agent needs a model: set HELLOWORD_LLM_BASE_URL (an OpenAI-compatible endpoint) and/or HELLOWORD_LLM_API_KEY")
    base_url = customer_base_url or settings.llm_base_url
    customer = ModelEndpoint(
        model=customer_model or settings.llm_model,
        base_url=base_url,
        api_key=customer_api_key or settings.resolved_llm_api_key,
        temperature=customer_temperature,
    )
    if settings.cache_dir is None:
        settings = settings.model_copy(update={"cache_dir": settings.resolved_cache_dir})
    try:
        with progress_bar("Simulated conversations") as update:
            summary = run_simulation(
                data_dir,
                tasks,
                reference,
                settings=settings,
                customer=customer,
                trials=trials,
                languages=languages,
                indexes=indexes,
                max_turns=max_turns,
                progress=update,
            )
    except SimulationError as e:
        fail(str(e), code=1)
    if as_json:
        click.echo(json.dumps(summary.as_json(), ensure_ascii=False))
        return
    table = Table(title=f"Simulated customers: {len(indexes)} tasks × {trials} trials (agent {summary.agent_model})")
    columns = ["customer language", *(f"pass^{k}" for k in range(1, trials + 1)), "turns", "model calls", "tokens in/out"]
    columns.append("customer tokens in/out")
    for column in columns:
        table.add_column(column, justify="left" if column == "customer language" else "right")
    for report in summary.languages:
        agent_usage, customer_usage = report.mean_usage("agent"), report.mean_usage("customer")
        table.add_row(
            language_name(report.language),
            *(f"{value:.2f}" for value in report.pass_hat.values()),
            f"{report.mean_turns:.1f}",
            f"{agent_usage['model_calls']:.1f}",
            f"{agent_usage['prompt_tokens']:.0f} / {agent_usage['completion_tokens']:.0f}",
            f"{customer_usage['prompt_tokens']:.0f} / {customer_usage['completion_tokens']:.0f}",
        )
    out.print(table)
    out.print(
        f"Turns, model calls and tokens are means per task; customer model {summary.customer_model}; {summary.seconds:.1f} s."
    )
    for report in summary.languages:
        for failure in report.failures():
            out.print(
                f"  task {failure['index']} ({report.language}, {failure['successes']}/{failure['trials']} passed): "
                + "; ".join(failure["problems"]),
                highlight=False,
                soft_wrap=True,
            )


@eval_group.command("tau-retail")
@click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=Path), help="Folder with users/orders/products.json."
)
@click.option("--tasks", "tasks_file", required=True, type=click.Path(path_type=Path), help="Tasks with ground-truth actions.")
@click.option("--out", "out_file", required=True, type=click.Path(path_type=Path), help="Where to write one JSON line per task.")
@click.option("--reference", "reference_file", type=click.Path(path_type=Path), help="Expected end states, to compare.")
def eval_tau_retail(data_dir: Path, tasks_file: Path, out_file: Path, reference_file: Path | None) -> None:
    """Replay each task's actions through Helloword's tools under the tau-retail profile,
    on a fresh copy of the data, and report the end state per task."""
    from commerce.tau_retail import TauRetailFormatError, load_tau_retail
    from evals.tau_retail import TaskFileError, load_json_list, replay_tasks

    try:
        load_tau_retail(data_dir)
        tasks = load_json_list(tasks_file)
        reference = load_json_list(reference_file) if reference_file else None
    except (TauRetailFormatError, TaskFileError) as e:
        fail(str(e))
    with progress_bar("Replaying tasks") as update:
        summary = replay_tasks(data_dir, tasks, out_file, reference=reference, progress=update)
    out.print(f"Tasks: {summary.tasks}   time: {summary.seconds:.1f} s   results: {out_file}")
    if reference is not None:
        out.print(f"End state matches the reference: {summary.matched} of {summary.compared}")
        for mismatch in summary.mismatches:
            out.print(f"  task {mismatch['index']}:", highlight=False)
            for problem in mismatch["problems"]:
                out.print(f"    {problem}", highlight=False, soft_wrap=True)
        if summary.mismatches:
            sys.exit(1)
