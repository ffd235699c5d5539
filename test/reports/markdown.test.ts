/**
 * The Markdown primitives of the reports against hostile text: whatever a title, path or log holds, escaped text
 * adds no markup, raw HTML, table cell or line, a fenced block cannot be closed from inside, and a document cut
 * at its size limit never leaves a block half written.
 */
import fc from 'fast-check';
import { code, fencedBlock, inlineText, link, MarkdownDocument, visibleText } from '../../src/reports/markdown';

const HIDDEN = ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u200e', '\u202e', '\u2066', '\u2028', '\u2029', '\ufeff'];

const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .array(fc.constantFrom('<script>alert(1)</script>', '|', '`', '```', '\n', '\r\n', '# ', '- ', '1. ', '[x](javascript:alert(1))', '![i](http://e/x.png)', '&lt;', '\\', '*', '_', '~~', '@here', ...HIDDEN, '\ud800', '\udfff', 'text'), { maxLength: 12 })
    .map((pieces) => pieces.join('')),
);

/** A `|` that GFM would read as a cell boundary: one not escaped by a backslash (itself not escaped). */
const UNESCAPED_PIPE = /(?<!\\)(?:\\\\)*\|/;

describe('inlineText', () => {
  test('a script tag becomes visible text, not HTML', () => {
    expect(inlineText('<script>alert(1)</script>')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  test('markup characters are escaped, line breaks become spaces, hidden characters go', () => {
    expect(inlineText('a|b `c` *d* [e](f)')).toBe('a\\|b \\`c\\` \\*d\\* \\[e\\](f)');
    expect(inlineText('# heading\n- item\r\n1. first')).toBe('\\# heading \\- item 1\\. first');
    expect(inlineText(`x${HIDDEN.join('')}y\ud800z`)).toBe('xyz');
    expect(inlineText('a &amp; b')).toBe('a &amp;amp; b');
  });

  test('mentions of people and teams are broken, so a pasted report notifies nobody', () => {
    expect(inlineText('ping @octocat and @org/team-sre, mail a@b.example')).toBe('ping @&#8203;octocat and @&#8203;org/team\\-sre, mail a@&#8203;b\\.example');
    expect(inlineText('a lone @ stays')).toBe('a lone @ stays');
  });

  test('whatever the text: one line, no raw HTML, no cell boundary, no code span, no hidden character, no mention', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const escaped = inlineText(text);
        expect(escaped).not.toMatch(/[\n\r<>]/);
        expect(escaped).not.toMatch(UNESCAPED_PIPE);
        expect(escaped).not.toMatch(/(?<!\\)`/);
        expect(visibleText(escaped)).toBe(escaped);
        expect(escaped).not.toMatch(/@[\w-]/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('code', () => {
  test('a token the service made is code; anything else is escaped text', () => {
    expect(code('0123abcd')).toBe('`0123abcd`');
    expect(code('rolled_back')).toBe('`rolled_back`');
    expect(code('a`b|c')).toBe('a\\`b\\|c');
  });
});

describe('fencedBlock', () => {
  test('the fence is longer than any backtick run inside', () => {
    const block = fencedBlock('before\n```\nescaped?\n``````\nafter');
    expect(block.startsWith('```````text\n')).toBe(true);
    expect(block.endsWith('\n```````')).toBe(true);
  });

  test('no line inside can close it, and hidden characters are removed', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const lines = fencedBlock(text).split('\n');
        const fence = /^`+/.exec(lines[0] ?? '')?.[0] ?? '';
        expect(fence.length).toBeGreaterThanOrEqual(3);
        expect(lines.at(-1)).toBe(fence);
        const closing = new RegExp(`^ {0,3}\`{${fence.length},}\\s*$`);
        for (const line of lines.slice(1, -1)) expect(line).not.toMatch(closing);
        for (const hidden of HIDDEN) expect(lines.join('\n')).not.toContain(hidden);
      }),
      { numRuns: 500 },
    );
  });
});

describe('link', () => {
  test('the destination cannot end early or open HTML', () => {
    expect(link('x', 'http://ui/namespaces/a b/workflows/p)(<x>')).toBe('[x](http://ui/namespaces/a%20b/workflows/p%29%28%3Cx%3E)');
  });
});

describe('MarkdownDocument', () => {
  test('stops at the limit between whole blocks and says so after a blank line', () => {
    const doc = new MarkdownDocument(200, '_cut_');
    doc.table(['a', 'b'], [['1', '2'], ['3', '4']]);
    doc.add(fencedBlock('x'.repeat(300)));
    doc.add('after the big block');
    const text = doc.render();
    expect(text).toBe('| a | b |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |\n\n\n_cut_\n');
    expect(text.length).toBeLessThanOrEqual(200);
  });

  test('an empty cell shows a dash', () => {
    const doc = new MarkdownDocument(1000, '_cut_');
    doc.table(['a', 'b'], [['', 'x']]);
    expect(doc.render()).toContain('| - | x |');
  });
});
