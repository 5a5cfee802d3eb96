"""The administrator's journey in French, Swedish and Dutch at 1,400 px with the sidebar open
(docs/decisions.md#messages-stored-as-what-they-mean): the assisted set-up's Finish, the full synchronisation's review,
the customers and accounts with their coupling column, the jobs and a job's page, the health page, the conflicts and the
configuration history. On each page: no English sentence of our catalogues or Django's (the stored records' data aside),
no element wider than its box, no table header broken inside a word. Screenshots:
var/screenshots/journey/<lang>-<page>.png (CI keeps var/)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from integration.engine.sync import mapping_synchronize
from integration.models import IntegrationTableMapping
from tests.e2e.browser import log_in, run_setup_wizard
from tests.integration.helpers import english_strings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "journey"
PAGES = {
    "index": "/admin/",
    "review": "/admin/integration/connectionsetup/full-synchronization/",
    "customers": "/admin/erp/customer/",
    "accounts": "/admin/crm/account/",
    "jobs": "/admin/integration/syncjob/",
    "health": "/admin/integration/connectionsetup/health/",
    "conflicts": "/admin/integration/syncconflict/",
    "history": "/admin/integration/configurationchange/",
}
LANGUAGE_NAMES = {name for _code, name in settings.LANGUAGES}

# The text nodes a person reads (scripts, styles and hidden inputs aside), whitespace collapsed.
TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || parent.closest('script, style, noscript, [hidden]')) continue;
    if (!parent.offsetParent && getComputedStyle(parent).position !== 'fixed') continue;  // not shown
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (text) texts.push(text);
  }
  for (const el of document.querySelectorAll('input[type=submit], input[type=button], [title], [placeholder]')) {
    for (const name of ['value', 'title', 'placeholder']) {
      const value = el.getAttribute(name);
      if (value && !(el.type === 'hidden')) texts.push(value.replace(/\\s+/g, ' ').trim());
    }
  }
  return texts;
}"""

# Boxes narrower than their content: the page itself, the content area, each list's results box.
TOO_WIDE = """() => {
  const wide = [];
  const boxes = [document.documentElement, document.querySelector('#content-main'), ...document.querySelectorAll(
    '#changelist .results, .module, fieldset')];
  for (const box of boxes.filter(Boolean)) {
    if (box.scrollWidth > box.clientWidth + 1)
      wide.push(`${box.tagName.toLowerCase()}${box.id ? '#' + box.id : ''}.${box.className}: ` +
                `${box.scrollWidth} px in ${box.clientWidth} px`);
  }
  return wide;
}"""

# Table headers whose one word is drawn on more than one line.
BROKEN_HEADERS = """() => {
  const broken = [];
  for (const th of document.querySelectorAll('table thead th')) {
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (const match of node.textContent.matchAll(/[^\\s\\/]+/g)) {  // a slash may end a line
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


def english_left(texts, lang):
    """The texts shown that are English strings of the catalogues, untranslated in ``lang``."""
    english = english_strings(lang)
    words_of_lang = set(english.values())  # "Order" is Swedish too (the translation of "Orders")
    return sorted({text for text in texts
                   if text in english and text not in LANGUAGE_NAMES and text not in words_of_lang})


def test_the_journey_in_french_swedish_and_dutch_at_1400_px(browser, live_server, demo):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en")
    page = context.new_page()
    page.set_default_timeout(60_000)
    log_in(page, live_server)
    run_setup_wizard(page, live_server)  # Finish: the connection enabled, the full synchronisation ready
    context.close()
    with translation.override("en"):  # jobs written by an English worker, read below in each language
        for name in ("CUSTOMER", "PAYMENT TERMS"):
            mapping_synchronize(mapping=IntegrationTableMapping.objects.get(name=name))

    found = {}
    for lang in ("fr", "sv", "nl"):
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale=lang)
        page = context.new_page()
        page.set_default_timeout(60_000)
        log_in(page, live_server)
        for name, url in [*PAGES.items(), ("job", None), ("account", None)]:
            if url is None:  # the first row's page: a job's, an account's (its coupling and tools)
                page.goto(f"{live_server.url}{PAGES[name + 's']}")
                page.click("#result_list tbody tr:first-child th a")
            else:
                page.goto(f"{live_server.url}{url}")
            page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == lang, (lang, name)
            if name != "index":  # the index has no sidebar; elsewhere it is open (Django's default at 1,400 px)
                assert page.locator("#nav-sidebar").is_visible(), (lang, name)
            page.screenshot(path=str(SHOTS / f"{lang}-{name}.png"), full_page=True)
            problems = {"english": english_left(page.evaluate(TEXTS), lang), "too wide": page.evaluate(TOO_WIDE),
                        "header broken inside a word": page.evaluate(BROKEN_HEADERS)}
            problems = {kind: what for kind, what in problems.items() if what}
            if problems:
                found[f"{lang} {name}"] = problems
        context.close()
    assert not found, "\n".join(f"{where}: {problems}" for where, problems in found.items())
