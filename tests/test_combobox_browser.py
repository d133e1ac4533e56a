"""The combobox core (``static/combobox.js``) in the site's own search box.

The widget's dialog is tested with Chinese input in ``test_widget_browser.py``;
the site's box shares its core, so the same guarantees hold there: no request
while a pinyin composition is open, and the Enter that ends a composition
(keyCode 229, or Safari's plain Enter just after ``compositionend``) never
opens a suggestion.  Input goes through Chromium's own IME entry points over
CDP (``Input.imeSetComposition`` / ``Input.insertText``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import watch


@pytest.fixture(scope="module")
def site(app, live_server):
    """The site over the embedded corpus, served for real (conftest's fixtures)."""
    with live_server(app) as url:
        yield url


pytestmark = pytest.mark.browser

SUGGEST = "/api/suggest"
LISTBOX = "#zs-suggest"

#: Enter as an IME sends it: keyCode 229 while composing, or (Safari) a plain
#: Enter right after compositionend.
IME_ENTER = """safari => {
    const input = document.getElementById('zs-q');
    if (safari) {
        input.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));
        input.dispatchEvent(new CompositionEvent('compositionend', {data: '离'}));
    }
    input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: safari ? 13 : 229,
                                                      bubbles: true, cancelable: true}));
}"""


def test_the_site_box_leaves_chinese_input_to_the_ime(page, site):
    seen = watch(page)
    requests: list[str] = []
    page.on("request", lambda r: SUGGEST in r.url and requests.append(r.url))
    page.goto(site + "/")
    assert page.evaluate("document.activeElement.id") == "zs-q"
    cdp = page.context.new_cdp_session(page)
    for text in ("s", "shi", "shiwu"):  # pinyin being typed
        cdp.send("Input.imeSetComposition", {"text": text, "selectionStart": len(text), "selectionEnd": len(text)})
    page.wait_for_timeout(600)  # several debounce periods
    assert page.locator("#zs-q").input_value() == "shiwu"  # a real composition, in the box
    assert requests == []
    cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "key": "Enter", "code": "Enter",
                                         "windowsVirtualKeyCode": 229, "nativeVirtualKeyCode": 229})
    page.wait_for_timeout(300)
    assert requests == [] and urlsplit(page.url).path == "/"
    with page.expect_response(lambda r: SUGGEST in r.url):
        cdp.send("Input.insertText", {"text": "事务隔"})  # the candidate is chosen: composition ends
    assert len(requests) == 1 and parse_qs(urlsplit(requests[0]).query)["q"] == ["事务隔"]
    page.locator(LISTBOX).wait_for(state="visible")
    options = page.locator(f'{LISTBOX} [role="option"]')
    selected = page.locator(f'{LISTBOX} [role="option"][aria-selected="true"]')

    # with a suggestion selected, neither kind of IME Enter opens it
    navigations: list[str] = []
    page.on("request", lambda r: r.is_navigation_request() and navigations.append(r.url))
    for safari in (False, True):
        if not selected.count():
            page.keyboard.press("ArrowDown")
        assert selected.count() == 1
        if safari:  # its compositionend asks again for the same text: the list comes back unselected
            with page.expect_response(lambda r: SUGGEST in r.url):
                page.evaluate(IME_ENTER, True)
            page.wait_for_function("() => !document.querySelector('#zs-suggest [aria-selected=\"true\"]')")
        else:
            page.evaluate(IME_ENTER, False)
        page.wait_for_timeout(300)
        assert navigations == [] and urlsplit(page.url).path == "/", "an IME's Enter opened a suggestion"
    assert len(requests) == 2

    # a plain Enter still opens the selected suggestion
    page.locator(LISTBOX).wait_for(state="visible")
    page.keyboard.press("ArrowDown")
    assert options.first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/a/.+\.md$"))
    assert "事务隔离" in page.locator("h1").inner_text()
    assert seen == {"dialogs": [], "csp": [], "errors": []}
