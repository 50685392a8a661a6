"""The student's feedback page through the real app (Flask test client, real engine, real SQLite):
the thesis and verdict as found, the argument map with its claims linked into the essay,
sentences that earned nothing explained, the table from criteria to the final mark adding up to
the mark shown, honest wording, escaping, and reports stored before the engine read arguments.

Pages are parsed with lxml (installed with python-docx) and read by XPath, so the assertions are about elements,
not about how the template happens to lay out its markup.
"""

from __future__ import annotations

import re

import lxml.html
import pytest
from conftest import read_fixture

from khrushchev_essays import sources
from khrushchev_essays.scoring import score
from khrushchev_essays.storage import Submission, db, save_submission

TOKEN_URL = re.compile(r"/feedback/([A-Za-z0-9_-]{32,})$")
CERTAIN = re.compile(r"left out|\bmissing\b|there is no\b|does not deal with|argues one side only|"
                     r"keep doing what you are doing|nothing relevant", re.I)
# An essay no criterion gave anything to (an essay on photosynthesis) may be told Level 0's own
# words, "nothing relevant"; every other certainty is still out.
CERTAIN_WITHOUT_CREDIT = re.compile(CERTAIN.pattern.replace("|nothing relevant", ""), re.I)


def post(client, qid: str, text: str) -> str:
    resp = client.post(f"/questions/{qid}", data={"text": text})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:400]
    return TOKEN_URL.search(resp.headers["Location"]).group(1)


def page_of(client, token: str):
    resp = client.get(f"/feedback/{token}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    return html, lxml.html.fromstring(html)


def C(name: str) -> str:
    """An XPath test for an element with the class `name` (among others)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def text_of(el) -> str:
    return " ".join(el.text_content().split())


def stored(app, token: str) -> Submission:
    with app.app_context():
        return db.session.query(Submission).filter_by(token=token).one()


def steps_table(doc) -> list[tuple[str, str, str]]:
    """(row class, label, marks) for each row of the criteria-to-mark table (the label without its note)."""
    rows = doc.xpath(f"//table[{C('mark-steps')}]/tbody/tr")
    return [(r.get("class"), " ".join((r.xpath("./th")[0].text or "").split()), text_of(r.xpath("./td")[0]))
            for r in rows]


def first_number(s: str) -> float:
    return float(re.search(r"[−-]?\d+(?:\.\d+)?", s).group().replace("−", "-"))


def assert_table_adds_up(doc, report: dict) -> None:
    rows = steps_table(doc)
    criteria = [r for r in rows if r[0] == "step-criterion"]
    assert len(criteria) == len(report["criteria"])
    for (_, label, marks), c in zip(criteria, report["criteria"]):
        assert label == c["name"] and marks == f"{c['mark']:g} / {c['max_mark']:g}"
    [total] = [r for r in rows if r[0] == "step-total"]
    assert first_number(total[2]) == pytest.approx(sum(c["mark"] for c in report["criteria"]))
    # Rounding, a cap, deductions and the floor each set the mark that the next step starts from.
    running = None
    for cls, label, marks in rows:
        if label == "Rounded to a whole mark" or cls in ("step-cap", "step-floor"):
            running = int(first_number(marks))
        elif cls == "step-deduction":
            running -= abs(int(first_number(marks)))
    final = rows[-1]
    assert final[0] == "step-final" and final[2].startswith(f"{report['mark']} / 25")
    assert f"Level {report['level']}" in final[2]
    assert running == report["mark"], rows
    assert not any(label == "Adjusted when it was marked" for _, label, _ in rows), rows
    assert text_of(doc.xpath(f"//span[{C('mark-num')}]")[0]) == str(report["mark"])


@pytest.mark.parametrize("qid, name", [
    ("q1", "q1_own_words_strong.txt"), ("q2", "q2_answers_q1.txt"), ("q1", "keyword_salad_q1.txt"),
    ("q1", "q1_repetition.txt"), ("q2", "q2_sincere_short.txt"), ("q1", "q1_strong.txt"),
    ("q2", "q2_medium.txt"), ("q1", "junk_off_topic.txt"), ("q1", "q1_wrong_dates.txt"),
])
def test_every_page_shows_the_argument_and_a_table_that_adds_up_to_the_mark(app, client, qid, name):
    token = post(client, qid, read_fixture(name))
    html, doc = page_of(client, token)
    sub = stored(app, token)
    report, text = sub.report, sub.text
    assert_table_adds_up(doc, report)

    # Thesis and verdict: quoted as found, or said to be not found.
    for part in ("thesis", "verdict"):
        box = text_of(doc.get_element_by_id(part))
        spans = report["argument"][part]
        if spans:
            for sp in spans:
                assert " ".join(sp["text"].split()) in box
        else:
            assert f"We could not find a clear {part}" in box

    # The argument map: one entry per factor with its status; every credited claim numbered once,
    # quoted, and linked to an anchor in the highlighted essay that links back.
    entries = doc.xpath(f"//ol[{C('argument-map')}]/li")
    assert [text_of(e.xpath(".//h4")[0]) for e in entries] == [f["name"] for f in report["factors"]]
    claims = {(sp["start"], sp["end"]): sp["text"] for spans in report["argument"]["claims"].values() for sp in spans}
    first = doc.xpath(f"//li[{C('map-claim')} and starts-with(@id, 'map-claim-')]")
    assert len(first) == len(claims)
    for n, (start, end) in enumerate(sorted(claims), 1):
        item = doc.get_element_by_id(f"map-claim-{n}")
        assert " ".join(text[start:end].split()) in text_of(item)
        assert item.xpath(f".//a[{C('tag-claim')}]")[0].get("href") == f"#claim-{n}"
        anchor = doc.get_element_by_id(f"claim-{n}")
        assert anchor.get("href") == f"#map-claim-{n}" and anchor.getparent().get("class") == "essay-text"
    for e, f in zip(entries, report["factors"]):
        status = text_of(e.xpath(f".//span[{C('status')}]")[0])
        assert status.endswith({"developed": "Explained", "mentioned": "Named, not explained",
                                "missing": "Not found"}[f["status"]])
        if f["status"] == "missing":
            assert "We could not find a clear paragraph on this." in text_of(e)

    # Honest wording wherever the page speaks of what the marker found.
    for section in ("mark", "next", "breakdown", "argument", "essay"):
        spoken = text_of(doc.get_element_by_id(section))
        spoken = spoken.replace(text_of(doc.xpath(f"//div[{C('essay-text')}]")[0]), "")  # the student's own words
        for q in doc.xpath("//*[@id='argument']//q | //*[@id='argument']//blockquote | //*[@id='essay']//q"):
            spoken = spoken.replace(text_of(q), "")
        certain = CERTAIN if any(c["mark"] > 0 for c in report["criteria"]) else CERTAIN_WITHOUT_CREDIT
        assert not certain.search(spoken), (section, certain.search(spoken).group())
    # The essay is shown in full, exactly as submitted.
    essay = doc.xpath(f"//div[{C('essay-text')}]")[0]
    for tag in essay.xpath(f".//*[{C('tag')}]"):
        tag.drop_tree()
    assert essay.text_content() == text


def test_the_other_questions_essay_is_told_which_question_it_answers(client, rubrics):
    _, doc = page_of(client, post(client, "q2", read_fixture("q2_answers_q1.txt")))
    argument = text_of(doc.get_element_by_id("argument"))
    assert "This essay seems to answer a different question" in argument
    assert rubrics["q1"].question in argument
    flags = text_of(doc.xpath(f"//section[{C('flags')}]")[0])
    assert "Answers other question" in flags


def test_repeated_sentences_are_marked_in_the_essay_and_explained(app, client):
    token = post(client, "q1", read_fixture("q1_repetition.txt"))
    _, doc = page_of(client, token)
    excluded = stored(app, token).report["argument"]["excluded"]
    assert any(sp["note"] == "repeat" for sp in excluded)
    notes = doc.xpath(f"//ol[{C('excl-notes')}]/li")
    assert len(notes) == len(excluded)
    for n, (li, sp) in enumerate(zip(notes, excluded), 1):
        assert li.get("id") == f"excl-note-{n}"
        assert " ".join(sp["text"].split()) in text_of(li)
        assert doc.get_element_by_id(f"excl-{n}").get("href") == f"#excl-note-{n}"
        if sp["note"] == "repeat":
            assert "Repeated:" in text_of(li) and "A point earns credit once" in text_of(li)
    assert doc.xpath(f"//div[{C('essay-text')}]//*[{C('hl-excl')}]")


def test_keyword_salad_shows_its_incoherent_sentences_and_the_cap_that_set_the_mark(app, client):
    token = post(client, "q1", read_fixture("keyword_salad_q1.txt"))
    _, doc = page_of(client, token)
    report = stored(app, token).report
    assert report["level"] == 1 and "incoherent" in report["flags"]
    notes = [text_of(li) for li in doc.xpath(f"//ol[{C('excl-notes')}]/li")]
    assert len(notes) == sum(sp["note"] == "incoherent" for sp in report["argument"]["excluded"]) > 5
    assert all("We could not find a clear connection between the ideas" in n for n in notes)
    # The salad's stuffed sentences earn nothing, so its mark comes down through them; the
    # incoherent cap is there too, and where it is what lowered the mark the table says so.
    assert any(c["rule"] == "incoherent" and c["max_level"] == 1 for c in report["caps"])
    cap = [r for r in steps_table(doc) if r[0] == "step-cap"]
    if any(c["rule"] == "incoherent" and c.get("applied") for c in report["caps"]):
        assert cap and cap[0][1] == "Held at Level 1 at most" and cap[0][2] == "5"
        why = text_of(doc.xpath(f"//tr[{C('step-cap')}]//span[{C('step-note')}]")[0])
        assert "many sentences join ideas that have no clear connection" in why
    else:
        assert report["raw_mark"] <= 5.5 and not cap


def test_an_essay_held_for_its_order_is_told_so_not_that_its_ideas_are_unconnected(app, client):
    # A strong essay's sentences in another order, run into one paragraph, opening with "However":
    # held at Level 1 for its order, and the page says that, not "ideas with no clear connection".
    sents = [s for p in read_fixture("q1_strong.txt").strip().split("\n\n") for s in re.split(r"(?<=[.!?])\s+", p)]
    opener = next(s for s in sents if s.startswith("However"))
    text = " ".join([opener] + [s for s in sents if s is not opener][::-1])
    token = post(client, "q1", text)
    _, doc = page_of(client, token)
    report = stored(app, token).report
    assert report["level"] <= 1 and report["argument"]["disorder"] >= 0.8, report["flags"]
    why = text_of(doc.xpath(f"//tr[{C('step-cap')}]//span[{C('step-note')}]")[0])
    assert "do not seem to follow on from one another" in why and "no clear connection" not in why


def test_words_out_of_order_are_marked_and_explained_as_such(app, client):
    import random

    rng = random.Random(4)
    scrambled = []
    for para in read_fixture("q2_strong.txt").strip().split("\n\n"):
        words = para.replace(".", "").split()
        rng.shuffle(words)
        scrambled.append(". ".join(" ".join(words[i:i + 14]) for i in range(0, len(words), 14)) + ".")
    token = post(client, "q2", "\n\n".join(scrambled))
    _, doc = page_of(client, token)
    report = stored(app, token).report
    assert report["level"] <= 1 and "incoherent" in report["flags"]
    notes = [text_of(li) for li in doc.xpath(f"//ol[{C('excl-notes')}]/li")]
    assert len(notes) == len(report["argument"]["excluded"]) > 5
    assert all("Words out of order:" in n and "not in an order that makes sense" in n for n in notes), notes[:2]


def test_the_question_and_a_list_of_sources_are_shown_as_not_marked(app, client, rubrics):
    text = (rubrics["q1"].question + "\n\n" + read_fixture("q1_strong.txt").strip()
            + "\n\nReferences\nService, R. A History of Modern Russia. Penguin.")
    token = post(client, "q1", text)
    _, doc = page_of(client, token)
    notes = [text_of(li) for li in doc.xpath(f"//ol[{C('excl-notes')}]/li")]
    assert any("The question:" in n and "not marked as part of your answer" in n for n in notes), notes
    assert any("List of sources:" in n and "Service" in n for n in notes), notes
    assert stored(app, token).report["level"] == 5


def test_a_sincere_short_answer_is_never_presented_as_nothing_relevant(app, client):
    token = post(client, "q2", read_fixture("q2_sincere_short.txt"))
    html, doc = page_of(client, token)
    report = stored(app, token).report
    assert report["mark"] >= 1 and any(c["mark"] > 0 for c in report["criteria"])
    assert "Nothing relevant" not in html and "No credit" not in text_of(doc.get_element_by_id("mark"))
    # Its last line is its answer in plain words, and the page shows it as the verdict it read.
    verdict = text_of(doc.get_element_by_id("verdict"))
    assert "the officials removed him because of his party reforms" in verdict, verdict
    assert report["argument"]["verdict"] and "no_judgement" not in report["flags"]


def test_a_strong_essay_is_told_what_separates_it_from_full_marks(app, client):
    token = post(client, "q1", read_fixture("q1_dyslexic_strong.txt"))
    _, doc = page_of(client, token)
    report = stored(app, token).report
    assert report["level"] >= 4
    box = doc.xpath(f"//div[{C('next-steps')}]")[0]
    assert "What separates this essay from full marks" in text_of(box)
    items = [text_of(li) for li in box.xpath(f".//ul[{C('to-full')}]/li")]
    short = [c for c in report["criteria"] if c["mark"] < c["max_mark"]]
    assert short and len(items) >= len(short)
    for c in short:
        assert any(i.startswith(f"{c['name']}: {c['max_mark'] - c['mark']:g} of") for i in items)
    assert "To reach full marks" in text_of(doc.get_element_by_id("mark"))


def test_a_copied_passage_names_its_source(app, client):
    notes = read_fixture("sources/virgin_lands_notes.txt")
    sources.add_source(app.instance_path, notes, "Week 3 <notes>")
    token = post(client, "q1", read_fixture("q1_medium.txt") + "\n\n" + notes[:600])
    html, doc = page_of(client, token)
    report = stored(app, token).report
    assert "copied_source" in report["flags"]
    copied = [text_of(li) for li in doc.xpath(f"//ol[{C('excl-notes')}]/li") if "Copied:" in text_of(li)]
    assert copied and all("matches a registered source (Week 3 <notes>)" in c for c in copied)
    assert "Week 3 &lt;notes&gt;" in html and "Week 3 <notes>" not in html
    assert doc.xpath(f"//div[{C('essay-text')}]//*[{C('hl-copied')}]")
    assert_table_adds_up(doc, report)


def test_a_hostile_essay_is_shown_as_text_in_the_essay_the_quotes_and_the_map(app, client):
    hostile = "<script>alert(1)</script>"
    text = read_fixture("q1_own_words_strong.txt")
    # Into the first sentence (the thesis or near it) and into every paragraph's second sentence.
    paras = [re.sub(r"(\. )", f". {hostile} ", p, count=1) for p in text.split("\n\n")]
    text = f"{hostile} " + "\n\n".join(paras)
    token = post(client, "q1", text)
    html, doc = page_of(client, token)
    report = stored(app, token).report
    assert "<script>alert" not in html
    quoted = [sp for part in ("thesis", "verdict") for sp in report["argument"][part]]
    quoted += [sp for spans in report["argument"]["claims"].values() for sp in spans]
    assert any(hostile in sp["text"] for sp in quoted), "the hostile text should reach a quote"
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") > text.count(hostile)
    assert not doc.xpath("//main//script")
    essay = doc.xpath(f"//div[{C('essay-text')}]")[0]
    for tag in essay.xpath(f".//*[{C('tag')}]"):
        tag.drop_tree()
    assert essay.text_content() == stored(app, token).text


def test_a_report_stored_before_the_engine_read_arguments_still_renders(app, client):
    text = read_fixture("q2_medium.txt")
    report = score(text, "q2")
    with app.app_context():
        sub = save_submission(text, report)
        old = dict(sub.report)
        for key in ("argument", "deductions"):
            old.pop(key)
        old["caps"] = [{k: v for k, v in c.items() if k != "applied"} for c in old["caps"]]
        old["feedback"] = {"strengths": [], "next_steps": ["Bring in the armed forces: they are missing."]}
        sub.report = old
        db.session.commit()
        token = sub.token
    html, doc = page_of(client, token)
    assert "We could not find a clear thesis" in text_of(doc.get_element_by_id("thesis"))
    assert "marked before the marker read arguments" in text_of(doc.get_element_by_id("argument"))
    assert len(doc.xpath(f"//ol[{C('argument-map')}]/li")) == len(old["factors"])
    assert not doc.xpath(f"//li[{C('map-claim')}]")
    assert "they are not found" in text_of(doc.get_element_by_id("next"))  # stored wording, hedged
    rows = steps_table(doc)
    assert rows[-1][0] == "step-final" and rows[-1][2].startswith(f"{old['mark']} / 25")


def test_an_old_zero_mark_with_credit_is_not_called_nothing_relevant(app, client):
    text = read_fixture("junk_too_short.txt")
    report = score(text, "q1")
    with app.app_context():
        sub = save_submission(text, report)
        old = dict(sub.report, mark=0, level=0)
        old.pop("argument")
        assert any(c["mark"] > 0 for c in old["criteria"])
        sub.report, sub.mark, sub.level = old, 0, 0
        db.session.commit()
        token = sub.token
    html, doc = page_of(client, token)
    mark = text_of(doc.get_element_by_id("mark"))
    assert "Below Level 1" in mark and "Parts of your essay earned credit" in mark
    assert "Nothing relevant" not in html
    rows = steps_table(doc)
    assert rows[-1][2].startswith("0 / 25")  # the table still ends at the mark shown
    assert any(label == "Adjusted when it was marked" for _, label, _ in rows)


def test_the_revision_form_repeats_the_steps_as_the_feedback_page_words_them(app, client):
    strong = post(client, "q1", read_fixture("q1_dyslexic_strong.txt"))
    html = client.get(f"/feedback/{strong}/revise").get_data(as_text=True)
    full = stored(app, strong).report["feedback"]["to_full_marks"]
    assert "What separates it from full marks" in html and full and all(
        line.replace("'", "&#39;") in html for line in full)
    weak = post(client, "q1", read_fixture("q1_repetition.txt"))
    html = client.get(f"/feedback/{weak}/revise").get_data(as_text=True)
    steps = stored(app, weak).report["feedback"]["next_steps"]
    assert "Your next steps" in html and all(s.replace("'", "&#39;") in html for s in steps)


def test_an_essay_shuffled_inside_its_paragraphs_is_told_which_ones_and_keeps_what_it_knows(app, client):
    # q2_medium (Level 3) with the sentences of each paragraph in another order: its argument
    # loses its marks, its knowledge keeps Level 2, and the page names the paragraphs it read so.
    import random

    paras = [re.split(r"(?<=[.!?])\s+(?=[A-Z])", p.strip()) for p in read_fixture("q2_medium.txt").strip().split("\n\n")]
    for seed in range(10):
        rng = random.Random(seed)
        text = "\n\n".join(" ".join(rng.sample(p, len(p))) for p in paras) + "\n"
        if "order_floor" in score(text, "q2").argument:
            break
    else:
        pytest.fail("no shuffle of q2_medium was held at the floor")
    token = post(client, "q2", text)
    _, doc = page_of(client, token)
    report = stored(app, token).report
    assert report["level"] == 2
    assert_table_adds_up(doc, report)
    rows = steps_table(doc)
    assert any(cls == "step-floor" and label == "Kept at Level 2 for what the essay knows" for cls, label, _ in rows)
    alert = text_of(doc.get_element_by_id("out-of-order"))
    assert "do not seem to follow on from one another" in alert
    listed = [text_of(li) for li in doc.xpath("//*[@id='out-of-order']//li")]
    spans = report["argument"]["out_of_order"]
    assert len(listed) == len(spans) >= 1
    for item, sp in zip(listed, spans):
        assert item.startswith(f"Paragraph {sp['note'].removeprefix('paragraph ')}, beginning")
        assert " ".join(text[sp["start"]:sp["end"]].split()[:10]) in item


def test_a_relevant_answer_raised_to_level_2_shows_the_step_and_why(app, client):
    # A sincere general answer of essay length: the rules' criteria give it Level 1 marks, the
    # mark scheme's floor for a relevant answer lifts it to Level 2, and the table says so.
    token = post(client, "q1", read_fixture("q1_general_short.txt"))
    _, doc = page_of(client, token)
    report = stored(app, token).report
    assert report["level"] == 2 and report["argument"]["relevant_floor"]["level"] == 2
    assert_table_adds_up(doc, report)
    rows = steps_table(doc)
    assert any(cls == "step-floor" and label == "Raised to Level 2 as a relevant answer" for cls, label, _ in rows), rows


def test_an_answer_to_another_question_is_told_which_and_the_limit_that_applies(app, client):
    # An essay on his rise, set q2: the page names the question it answers, and the limit it
    # states is the rubric's (Level 1 for these rubrics), not a fixed "Level 2".
    token = post(client, "q2", read_fixture("q2_answers_rise.txt"))
    _, doc = page_of(client, token)
    report = stored(app, token).report
    assert "answers_other_question" in report["flags"]
    level = next(c for c in report["caps"] if c["rule"] == "answers_other_question")["max_level"]
    page = text_of(doc)
    assert "It reads as an answer to \u201cWhy did Khrushchev emerge as leader of the USSR by 1956?\u201d" in page
    assert f"this holds the mark at Level {level} at most" in page
    others = {f"this holds the mark at Level {n} at most" for n in range(1, 6) if n != level}
    assert not any(o in page for o in others)
