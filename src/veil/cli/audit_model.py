"""``veil audit-model``: does a trained model leak its training data? Membership inference and canaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from veil.cli.options import DelimiterOpt, OverwriteOpt, err
from veil.errors import ConfigError, InputError
from veil.textio_out import atomic_output

audit_model_app = typer.Typer(help="Model leak audits: membership inference (loss, LiRA) and memorized canaries.",
                              no_args_is_help=True)  # fmt: skip

PolicyOpt = Annotated[Path | None, typer.Option("--policy", help="Judge the result against models.require.")]
OutOpt = Annotated[str | None, typer.Option("--out", help="The report as JSON (default: standard output).")]
EpsilonOpt = Annotated[float | None, typer.Option("--epsilon", help="Train with DP-SGD (Opacus) to this epsilon.")]


def _requirement(policy: Path | None) -> Any:
    if policy is None:
        return None
    from veil.policy.loader import load_policy

    found = load_policy(policy).models.require
    if found is None:
        raise ConfigError(f"{policy} has no models.require section to judge against")
    return found


def _finish(doc: dict[str, Any], verdict: Any, out: str | None, overwrite: bool) -> None:
    doc["verdict"] = verdict.to_dict() if verdict.checks else None
    with atomic_output(out, overwrite=overwrite) as fh:
        fh.write(json.dumps(doc, indent=2) + "\n")
    if verdict.checks:
        err.print("release gate: " + ("passed" if verdict.passed else "FAILED: " + "; ".join(verdict.reasons())))
    if not verdict.passed:
        raise typer.Exit(1)


def _features(train: str, holdout: str, label: str, positive: str, numeric: str, sep: str | None) -> Any:
    import numpy as np

    from veil.learn.encoding import Encoder
    from veil.tabular.frames import locate, read_frame

    frames = [read_frame(locate(path, None, sep, None)) for path in (train, holdout)]
    for frame in frames:
        if label not in frame.columns:
            raise InputError(f"the table has no label column '{label}'")
    nums = [c.strip() for c in numeric.split(",") if c.strip()]
    cats = [c for c in frames[0].columns if c not in (label, *nums)]
    encoder = Encoder.fit(frames[0], nums, cats)  # the members' own statistics, as training would use
    out = []
    for frame in frames:
        truth = np.asarray(frame[label].cast(str).to_list()) == positive
        out += [encoder.transform(frame), truth.astype(np.int64)]
    if not out[1].any() or out[1].all():
        raise InputError(f"the label '{label}' has one class only in the members (is --positive right?)")
    return out


@audit_model_app.command("membership")
def membership_cmd(
    train: Annotated[str, typer.Option("--train", help="The members: the rows the model is trained on.")],
    holdout: Annotated[str, typer.Option("--holdout", help="Rows from the same population it never saw.")],
    label: Annotated[str, typer.Option(help="The label column.")],
    positive: Annotated[str, typer.Option(help="The label value that is class 1.")],
    numeric: Annotated[str, typer.Option(help="Numeric columns (others are one-hot).")] = "",
    model: Annotated[str, typer.Option("--model", help="mlp, logreg (Veil's DP-SGD path) or "
                                       "package.module:factory returning an unfitted scikit-learn-style "
                                       "estimator.")] = "mlp",
    epsilon: EpsilonOpt = None,
    epochs: Annotated[int, typer.Option(help="Training epochs of Veil's models.")] = 30,
    shadows: Annotated[int, typer.Option(help="Shadow models for LiRA (0: the loss attack only).")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the shadow split and training.")] = 0,
    roc_svg: Annotated[str | None, typer.Option("--roc", help="Write the ROC curves (log-log SVG) here.")] = None,
    policy: PolicyOpt = None,
    out: OutOpt = None,
    sep: DelimiterOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Membership inference: train the model on --train, attack it on --train vs --holdout (exit 1: gate failed)."""
    from veil.learn.audit.estimators import factory
    from veil.learn.audit.gate import judge
    from veil.learn.audit.membership import audit_membership
    from veil.learn.audit.plot import roc_svg as draw

    requirement = _requirement(policy)
    make = factory(model, epsilon=epsilon, epochs=epochs, seed=seed)
    x_in, y_in, x_out, y_out = _features(train, holdout, label, positive, numeric, sep)
    report = audit_membership(make, x_in, y_in, x_out, y_out, shadows=shadows, name=model, seed=seed,
                              progress=lambda m: err.print(m, highlight=False))  # fmt: skip
    best = report.strongest
    verdict = judge(requirement, auc=best.roc.auc, tpr_1pct=best.roc.tpr_at(1e-2))
    if roc_svg:
        title = f"membership inference: {model}" + (f", DP-SGD epsilon {epsilon:g}" if epsilon else "")
        with atomic_output(roc_svg, overwrite=overwrite) as fh:
            fh.write(draw([(a.name, a.roc) for a in report.attacks], title))
    err.print(f"strongest attack {best.name}: AUC {best.roc.auc:.3f}, TPR {best.roc.tpr_at(1e-3):.2%} at 0.1 % FPR, "
              f"{best.roc.tpr_at(1e-2):.2%} at 1 % FPR (accuracy: train {report.train_accuracy:.3f}, "
              f"held-out {report.test_accuracy:.3f})", highlight=False)  # fmt: skip
    _finish(report.to_dict(), verdict, out, overwrite)


def _corpus(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    return [line for line in text.splitlines() if line.strip()]


@audit_model_app.command("canaries")
def canaries_cmd(
    corpus: Annotated[Path, typer.Argument(help="Training text (UTF-8, one example per line).")],
    kinds: Annotated[str, typer.Option("--kinds", help="Canary formats: ssn, card, pin.")] = "ssn,card",
    repeats: Annotated[str, typer.Option(help="Insert each canary this many times (one canary per count).")] = "1,4,16",
    epsilon: EpsilonOpt = None,
    epochs: Annotated[int, typer.Option(help="Training epochs of the character model.")] = 10,
    candidates: Annotated[int, typer.Option(help="Random secrets the exposure is estimated from.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the canaries, their places and the training.")] = 0,
    policy: PolicyOpt = None,
    out: OutOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """The Secret Sharer: plant random canaries, train a character model on CPU, report each one's exposure."""
    import numpy as np

    from veil.learn.audit.canary import exposure, make_canaries, plant
    from veil.learn.audit.charlm import train_charlm
    from veil.learn.audit.gate import judge

    requirement = _requirement(policy)
    try:
        counts = [int(r) for r in repeats.split(",") if r.strip()]
    except ValueError:
        raise ConfigError("--repeats is a comma-separated list of counts, e.g. 1,4,16") from None
    if candidates < 100:
        raise ConfigError("--candidates must be at least 100")
    rng = np.random.default_rng(seed)
    planted = make_canaries([k.strip() for k in kinds.split(",") if k.strip()], counts, rng)
    lines = plant(_corpus(corpus), planted, rng)
    chars = sum(map(len, lines))
    private = f", DP-SGD epsilon {epsilon:g} per line" if epsilon else ""
    err.print(f"training on {len(lines):,} lines ({chars:,} characters) with {sum(c.repeats for c in planted)} "
              f"canary lines{private}", highlight=False)  # fmt: skip
    lm = train_charlm(lines, epochs=epochs, epsilon=epsilon, seed=seed, extra_chars="0123456789 -")
    found = [exposure(lm, c, candidates=candidates, seed=seed + 1) for c in planted]
    for e in found:
        err.print(f"{e.canary.kind} x{e.canary.repeats}: exposure {e.exposure:.1f} of "
                  f"{e.to_dict()['max_exposure']} bits", highlight=False)  # fmt: skip
    doc = {"lines": len(lines), "characters": chars, "epsilon": lm.epsilon, "canaries": [e.to_dict() for e in found]}
    _finish(doc, judge(requirement, exposures=[e.exposure for e in found]), out, overwrite)
