"""What the browser tests measure of a widget's layout (shared by the layout and the modes tests)."""

# Every element in the card wider than the card's content box (or scrolling inside), and the page's own
# horizontal overflow, measured the way a user sees it: scrollWidth against clientWidth.
OVERFLOWS = """(selector) => {
    const card = document.querySelector(selector);
    const box = card.getBoundingClientRect();
    const out = [];
    const name = (el) => `${el.tagName.toLowerCase()}.${el.className}`;
    for (const el of [card, ...card.querySelectorAll('*')]) {
        const r = el.getBoundingClientRect();
        if (r.width === 0) continue;
        if (el.scrollWidth > el.clientWidth && getComputedStyle(el).overflowX !== 'hidden' && el.clientWidth > 0)
            out.push(`${name(el)}: scrollWidth ${el.scrollWidth} > ${el.clientWidth}`);
        if (r.right > box.right + 0.5 || r.left < box.left - 0.5)
            out.push(`${name(el)}: ${r.left}-${r.right} outside the card ${box.left}-${box.right}`);
    }
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth)
        out.push(`the page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth}`);
    return out;
}"""
