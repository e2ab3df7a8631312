"""The model card written beside every model, and the definition of 负面舆情 it is trained to.

The definition is kept here as text so the digest's help and the card say the same thing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

KEPT = "<!-- kept across retraining -->"

DEFINITION = """\
负面舆情 (label `negative`): a post that voices a complaint, or reports an accident, a dispute,
misconduct, or fear or anger about something local — whatever its politeness or script.
  负面: 县城管局暴力执法，把摊贩的车砸了，太过分了 (misconduct) · 您好，小区门口的路灯坏了一个月了，
  麻烦有关部门看看 (a polite complaint) · 化工厂偷排污水，河里大量死鱼 (an incident) ·
  服务态度还行，可是办个证跑了五趟还没办下来 (praise, then the complaint that matters).
Not 负面 (neutral, or positive for praise and thanks): questions, notices and news reports that
carry no complaint, accident, dispute or misconduct.
  中性: 请问县医院周末可以挂专家号吗？ · 关于飞仙关镇停电检修的通知 ·
  县里拨付救灾资金五千余万元，覆盖全县受灾群众 · 快递员一个月大概能挣多少钱？
negative_prob is calibrated: of posts scored 0.7, about 70 % are negative; the label is negative
from `[analysis] negative_threshold` (0.5)."""

SOURCES_TEXT = [
    "Corpora (third-party, read from ../shared/data/sentiment, never copied into the project; terms below):",
    "- weibo2018: Sina Weibo posts 2018, hand-labelled (dengxiuqi/WeiboSentiment; research corpus, no licence stated).",
    "- smp2020 (COVID-19 Weibo) and smp2020_usual (general Weibo, `type == usual` of smp2020_usual_train0.csv and",
    "  _dev0.csv): SMP2020-EWECT, research use. happy -> positive,",
    "  neural -> neutral, angry/sad/fear -> negative, surprise dropped.",
    "- osm2022: Weibo comments on local social incidents (hyqaq/osmdataset2022, Li et al., ICAC 2022; academic and",
    "  research use, no commercial use). 0 -> positive (supportive), 1-3 (weak negative, anger, anxiety) -> negative.",
    "- nlpcc2014: NLPCC 2014 Weibo emotion test set (non-commercial research use): none -> neutral,",
    "  like/happiness -> positive, disgust/sadness/anger/fear -> negative, surprise dropped.",
    "- thucnews: THUCNews headlines, thucnews_headlines_dev.txt and _test.txt (649453932/Chinese-Text-",
    "  Classification-Pytorch; research use), neutral; the",
    "  society and politics topics are left out (they hold accidents and crimes, unlabelled).",
    "- zhihu: Zhihu question titles (DennisThink/zhihu_history, MIT), neutral.",
    "- chnsenticorp (hotel reviews) and waimai (food-delivery reviews): complaints about services.",
    "Generated (yuqing/analysis/notices.py, the project's own templates): notices, services, enquiries, incidents,",
    "thanks. On the validation split of real text, training with or without them changes no figure by more",
    "than 0.3 point. They are kept for what no corpus labels: residents' enquiries and suggestions at full",
    "weight took hand-written questions flagged negative from 3 of 10 to 0 of 10 (tests/analysis/",
    "test_residents.py) with every real dev figure within 0.3 point; incident reports at full weight, for the",
    "register of local accidents and pollution (6 of 8 hand-written ones read negative).",
    "corrections: analysts' corrected labels from the store (see Field retraining).",
    "No text is shipped: only hashed feature weights.",
]


def _model_lines(m: dict[str, Any], cal: dict[str, Any]) -> list[str]:
    """How head 0 is built and calibrated: stacked (format /3) or NB-LR + Platt (/2)."""
    if "stack_a" not in cal:
        return [
            "  Head 0 is P(negative): NB-LR blended with a plain LR over the same buckets (0.7 / 0.3, one weight",
            "  vector); head 1 (NB-LR) splits the rest into positive and neutral. Inference needs numpy only:",
            "  no corpora, no network, no scikit-learn, no segmentation.",
            (f"- Calibration: Platt scaling of head 0 (a={cal.get('platt_a', '')}, c={cal.get('platt_c', '')}) fitted on "
             f"{cal.get('validation', 'a validation split')}, folded into the weights."),
        ]
    c_tfidf = (m.get("params") or {}).get("c_tfidf", "")
    lines = [
        "  Head 0 is P(negative), two linear models over the same buckets, stacked: A, an NB-LR blended with a",
        "  plain LR (0.7 / 0.3, one weight vector), and B, a logistic regression (C=" + str(c_tfidf) + ") over the TF-IDF of",
        "  the same binary features, l2-normalised per post (its idf and weights are shipped as numbers).",
        "  Head 1 (NB-LR) splits the rest into positive and neutral. Inference needs numpy only: no corpora,",
        "  no network, no scikit-learn, no segmentation; one gather of a (buckets, 4) table per post.",
        (f"- Stacking and calibration: negative logit = {cal['stack_a']}·z_A + {cal['stack_b']}·z_B + {cal['stack_c']}, a"),
        (f"  logistic stacker fitted on {cal.get('validation', 'a validation split')} (heads fitted without them),"),
        "  then the heads refitted on every training row.",
    ]
    if m.get("concession"):
        lines += [
            "- 转折 (concession): in 虽然/尽管…但是/可是/却… and X是X，就是/可是/但… the clause after the turn is scored",
            "  on its own; when it reads negative (logit above 0.5) and more negative than the whole post, it decides",
            "  (好是好，就是落实太慢 -> negative; 虽然很累，但是很开心 stays as the whole reads).",
        ]
    return lines


def write_card(model: Any, path: Path, model_path: Path | None = None) -> Path:
    """The model card: what it was trained on, when, and how it measured.

    Anything below the KEPT marker in an existing card (benchmark notes) survives retraining.
    """
    from yuqing.analysis.retrain import history_lines

    m = model.meta
    kept = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if KEPT in old:
            kept = old[old.index(KEPT):]
    cal = m.get("calibration") or {}
    lines = [
        "# yuqing sentiment model — model card",
        "",
        (f"- File: `{(model_path or path.with_suffix('.npz')).name}` ({m['format']}), trained {m['created']} "
         f"with seed {m['seed']}."),
        "- Task: three classes (negative / neutral / positive) with a calibrated `negative_prob`, for Chinese",
        "  social-media posts and local news about a county or district.",
        f"- Model: logistic heads over {m['features']}; {m['buckets']} buckets, float16 weights.",
        *_model_lines(m, cal),
        "",
        "## What 负面 means here",
        "",
        "```",
        DEFINITION,
        "```",
        "",
        "## Training data",
        "",
        "| source | file | trained on | held out |",
        "|---|---|---|---|",
    ]
    for name, s in m["sources"].items():
        lines.append(f"| {name} | {s['file'] or '(generated / store)'} | {s['train']} | {s['dev']} |")
    lines += ["", *SOURCES_TEXT, "",
              f"## Measured on the held-out split ({m['dev_split']})", "",
              "| dev set | accuracy (negative vs not) | macro-F1 | n | neutral flagged negative | ECE |",
              "|---|---|---|---|---|---|"]
    for name, f in m["dev"].items():
        lines.append(f"| {name} | {f['accuracy']} | {f['macro_f1']} | {f['n']} | "
                     f"{f.get('neutral_flagged_negative', '')} | {f.get('ece', '')} |")
    lines += [
        "",
        "Beside a TF-IDF + LogisticRegression baseline and SnowNLP: `python bench/analysis.py` (figures below).",
        "",
        "## Limits",
        "",
        "- Sarcasm (这效率真高啊，一个章盖了三个月) is often read literally. Concessions are handled only in their",
        "  concessive frames (虽然/尽管…但是/可是/却, X是X，就是/可是/但); a bare 但是 after a comma is not read as a turn.",
        "- Accidents and misconduct told flatly, in few words (工地拖欠农民工工资半年, 某村干部优亲厚友), can read",
        "  neutral: no corpus labels local incident reports, and news headlines teach the neutral class.",
        "- Held-out Weibo stays near 0.85: label noise puts a ceiling near 0.93, and character n-grams alone",
        "  plateau here (NB-SVM, more buckets, contrast-clause features: all within +-0.5 on validation; the",
        "  stacked head B gains on the reviews, SMP2020 and the hand-written complaints, not on Weibo).",
        "- The 转折 rule needs the clause after the turn to read negative by itself: 虽然窗口态度还可以，但是材料",
        "  退回来三次了 stays positive. Hashed n-grams of the clause after every 但/就是/可是 as extra features were",
        "  measured instead (validation: Weibo -0.5 point, and 好是好，就是落实太慢 still 0.2): not used.",
        "- Retrain with the analysts' corrections: `yuqing train-sentiment` (no corpora needed).",
        "",
        "## Field retraining",
        "",
        "`yuqing --config yuqing.toml train-sentiment` refines the model in use with the analysts' corrections",
        "(web app), numpy only: both heads are refitted on the corrections with an L2 pull towards the current",
        "weights. A fifth of the corrections (CRC-32 of the text % 100 < 20) is held out and scores the old and",
        "the new model; a drop of more than 1 point is refused unless `--force`. The model is written to",
        "`[analysis] model`, else `models/sentiment_model.npz` beside the config (which then replaces the shipped",
        "one), the previous one kept as `*.previous.npz` (`--rollback` swaps them). The daemon reloads the file",
        "at its next analysis batch.",
        "",
    ]
    lines += history_lines(m)
    path.write_text("\n".join(lines) + ("\n" + kept if kept else ""), encoding="utf-8")
    return path
