"""Help-center search at 10,000 published articles (issue 8: search p95 ≤ 100 ms).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench_help .venv/bin/python bench/run_helpcenter.py

1. **Database**: migrated here (``manage.py migrate``), its own database (``fd_bench_help``).
2. **Fill** (when it holds fewer than ``--articles`` published articles, or ``--refill``: all
   articles are deleted first): ``--articles`` (10,000) published articles, 40 % English and
   15 % each in Tamil, Filipino, Bengali and Hindi, every category, bodies of 120–400 words
   drawn from a topic vocabulary (a few frequent words, many rare ones, so some queries match
   thousands of articles and some a handful), rendered and sanitized as the service does
   (``helpcenter.markdown.render``), written with ``bulk_create``; a third of the English slugs
   also translated. Then ``VACUUM (ANALYZE)``.
3. **Measure** (``--warmup`` then ``--runs`` per query, p50/p95/max of the wall time):
   ``helpcenter.selectors.search`` for a mix of queries in each language — one frequent word,
   a rare word, two and three words, an unfinished word (the suggestions while typing,
   ``prefix=True``, at most 5) and a word found nowhere — and the whole search page through
   ``django.test.Client`` (``/help/<lang>/search/?q=…``) for a sample of them, DEBUG off.
   EXPLAIN (ANALYZE, BUFFERS) of the slowest query goes into the report.

Writes ``bench/results/helpcenter-latest.md``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fd_bench_help")
sys.path.insert(0, str(ROOT / "bench"))
import run  # noqa: E402, F401  (sets Django up against a local database, DEBUG off)
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from measure import pct  # noqa: E402

from fulfillment import clock  # noqa: E402
from helpcenter import markdown, selectors  # noqa: E402
from helpcenter.enums import ArticleStatus  # noqa: E402
from helpcenter.models import Article  # noqa: E402
from inquiries.enums import Category  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET_MS = 100.0
LANGUAGE_SHARE = {"en": 40, "ta": 15, "fil": 15, "bn": 15, "hi": 15}


def _split(text: str) -> list[str]:
    return text.split()


#: Frequent words (in many articles) and the rest of each language's vocabulary.
WORDS = {
    "en": (
        _split("order delivery refund payment parcel account"),
        _split(
            "return exchange card invoice courier tracking address warehouse damaged missing late cancel "
            "replacement warranty charger battery screen size colour voucher gift discount coupon subscription "
            "password email phone login shipping customs duty pickup locker signature weekend holiday express "
            "standard international bank transfer wallet instalment receipt tax business bulk wholesale "
            "assembly manual install repair technician appointment schedule reschedule complaint feedback"
        ),
    ),
    "ta": (
        _split("ஆர்டர் டெலிவரி பணம் பார்சல்"),
        _split(
            "திரும்ப மாற்று அட்டை விலைப்பட்டியல் கூரியர் முகவரி கிடங்கு சேதம் காணவில்லை தாமதம் ரத்து உத்தரவாதம் "
            "சார்ஜர் பேட்டரி திரை அளவு நிறம் தள்ளுபடி கடவுச்சொல் மின்னஞ்சல் தொலைபேசி வங்கி ரசீது வரி பழுது"
        ),
    ),
    "fil": (
        _split("order padala refund bayad"),
        _split(
            "ibalik palitan card resibo kuryer address bodega sira nawawala huli kanselahin warranty charger "
            "baterya screen laki kulay diskwento password email telepono bangko buwis ayos iskedyul reklamo"
        ),
    ),
    "bn": (
        _split("অর্ডার ডেলিভারি টাকা পার্সেল"),
        _split(
            "ফেরত বদল কার্ড চালান কুরিয়ার ঠিকানা গুদাম ক্ষতিগ্রস্ত হারানো দেরি বাতিল ওয়ারেন্টি চার্জার ব্যাটারি "
            "পর্দা মাপ রং ছাড় পাসওয়ার্ড ইমেল ফোন ব্যাংক রসিদ কর মেরামত অভিযোগ"
        ),
    ),
    "hi": (
        _split("ऑर्डर डिलीवरी पैसा पार्सल"),
        _split(
            "वापसी बदलाव कार्ड चालान कूरियर पता गोदाम खराब गायब देरी रद्द वारंटी चार्जर बैटरी स्क्रीन आकार रंग "
            "छूट पासवर्ड ईमेल फ़ोन बैंक रसीद कर मरम्मत शिकायत"
        ),
    ),
}
#: Rare words: each appears in few articles (a product code, a place, a model name).
RARE_PER_LANGUAGE = 3000


def _rare(lang: str, n: int) -> str:
    return f"{lang}model{n}"


def fill(count: int, seed: int = 8) -> None:
    rng = random.Random(seed)
    Article.objects.all().delete()
    now = clock.now()
    plan = []
    for lang, share in LANGUAGE_SHARE.items():
        plan += [lang] * (count * share // 100)
    plan += ["en"] * (count - len(plan))
    english_slugs: list[str] = []
    rows = []
    seen: set[tuple[str, str]] = set()
    for i, lang in enumerate(plan):
        common, vocabulary = WORDS[lang]
        title_words = [rng.choice(common), *rng.sample(vocabulary, 3), _rare(lang, rng.randrange(RARE_PER_LANGUAGE))]
        title = " ".join(title_words).capitalize()
        paragraphs = []
        for _ in range(rng.randint(3, 8)):
            words = [
                rng.choice(common) if rng.random() < 0.15 else
                _rare(lang, rng.randrange(RARE_PER_LANGUAGE)) if rng.random() < 0.03 else rng.choice(vocabulary)
                for _ in range(rng.randint(40, 50))
            ]  # fmt: skip
            paragraphs.append(" ".join(words) + ".")
        body = "## " + " ".join(rng.sample(vocabulary, 3)) + "\n\n" + "\n\n".join(paragraphs)
        if lang != "en" and english_slugs and rng.random() < 0.33:
            slug = rng.choice(english_slugs)
        else:
            slug = f"article-{i}"
        if (slug, lang) in seen:
            slug = f"article-{i}"
        seen.add((slug, lang))
        if lang == "en":
            english_slugs.append(slug)
        rows.append(
            Article(
                title=title[:200],
                slug=slug,
                category=rng.choice(Category.values),
                language=lang,
                body=body,
                body_html=markdown.render(body),
                status=ArticleStatus.PUBLISHED,
                created_at=now,
                updated_at=now,
                published_at=now,
            )
        )
    Article.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) helpcenter_article")


def query_mix(rng: random.Random) -> list[tuple[str, str, str, bool]]:
    """(name, language, query, prefix)."""
    mix = []
    for lang, (common, vocabulary) in WORDS.items():
        mix += [
            ("frequent word", lang, common[0], False),
            ("vocabulary word", lang, rng.choice(vocabulary), False),
            ("two words", lang, f"{common[1]} {rng.choice(vocabulary)}", False),
            ("three words", lang, " ".join(rng.sample(vocabulary, 3)), False),
            ("rare word", lang, _rare(lang, rng.randrange(RARE_PER_LANGUAGE)), False),
            ("typing (prefix, 5)", lang, f"{common[0]} {rng.choice(vocabulary)[:3]}", True),
            ("found nowhere", lang, "zzqxnothing", False),
        ]
    return mix


def _time(fn, runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("the help-center bench measures PostgreSQL full-text search: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED).count()
    if args.refill or published < args.articles:
        start = time.perf_counter()
        fill(args.articles)
        print(f"filled {args.articles} articles in {time.perf_counter() - start:.1f} s")
    rng = random.Random(42)
    rows = []
    everything = []
    slowest = (0.0, None)
    for name, lang, q, prefix in query_mix(rng):
        limit = selectors.SUGGEST_LIMIT if prefix else selectors.SEARCH_LIMIT
        found = len(selectors.search(q=q, language=lang, limit=limit, prefix=prefix))
        samples = _time(
            lambda q=q, lang=lang, prefix=prefix, limit=limit: selectors.search(
                q=q, language=lang, limit=limit, prefix=prefix
            ),
            args.runs,
            args.warmup,
        )
        everything += samples
        p95 = pct(samples, 95)
        if p95 > slowest[0]:
            slowest = (p95, (q, lang, prefix, limit))
        rows.append((f"search · {name}", lang, q, found, pct(samples, 50), p95, max(samples)))
    client = Client()
    pages = []
    for name, lang, q, prefix in query_mix(random.Random(7)):
        if prefix or name not in ("frequent word", "two words", "rare word"):
            continue
        url = f"/help/{lang}/search/?q={q}"
        assert client.get(url).status_code == 200, url
        samples = _time(lambda url=url: client.get(url), args.runs, args.warmup)
        pages.append((f"page · {name}", lang, q, "", pct(samples, 50), pct(samples, 95), max(samples)))
    q, lang, prefix, limit = slowest[1]
    plan = selectors.search_queryset(q=q, language=lang, prefix=prefix)[:limit].explain(analyze=True, buffers=True)
    overall = pct(everything, 95)
    lines = [
        "# Help-center search bench",
        "",
        f"{Article.objects.filter(status=ArticleStatus.PUBLISHED).count():,} published articles; PostgreSQL "
        f"{connection.pg_version // 10000}; {args.runs} runs after {args.warmup} warm-up per query.",
        "",
        f"**Search p95 over the whole mix: {overall:.1f} ms** (target ≤ {TARGET_MS:.0f} ms: "
        f"{'met' if overall <= TARGET_MS else 'NOT met'}); p50 {pct(everything, 50):.1f} ms.",
        "",
        "| scenario | lang | query | found | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for scenario, lang_, q_, found, p50, p95, top in rows + pages:
        lines.append(f"| {scenario} | {lang_} | {q_} | {found} | {p50:.1f} | {p95:.1f} | {top:.1f} |")
    lines += [
        "",
        f"Slowest search query ({slowest[1][0]!r}, {slowest[1][1]}), its matching step:",
        "",
        "```",
        plan,
        "```",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "helpcenter-latest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[: 5 + len(rows) + len(pages) + 4]))


if __name__ == "__main__":
    main()
