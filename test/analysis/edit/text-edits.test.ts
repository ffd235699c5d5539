import { applyEdits, EditConflictError, editsOverlap, fitsBeside } from '../../../src/analysis/edit/text-edits';

describe('applyEdits', () => {
  it('applies edits given in any order against the original offsets', () => {
    expect(applyEdits('abcdef', [{ start: 4, end: 5, text: 'E' }, { start: 0, end: 1, text: 'A' }, { start: 2, end: 2, text: '+' }])).toBe('Ab+cdEf');
  });

  it('merges identical duplicates', () => {
    const edit = { start: 1, end: 2, text: 'X' };
    expect(applyEdits('abc', [edit, { ...edit }])).toBe('aXc');
  });

  it('refuses overlapping edits and two insertions at one offset', () => {
    expect(() => applyEdits('abcdef', [{ start: 1, end: 3, text: '' }, { start: 2, end: 4, text: '' }])).toThrow(EditConflictError);
    expect(() => applyEdits('abc', [{ start: 1, end: 1, text: 'x' }, { start: 1, end: 1, text: 'y' }])).toThrow(EditConflictError);
  });

  it('refuses edits outside the text', () => {
    expect(() => applyEdits('abc', [{ start: 2, end: 9, text: '' }])).toThrow(EditConflictError);
  });

  it('lets an insertion touch a replacement at either end', () => {
    expect(editsOverlap({ start: 1, end: 1, text: 'x' }, { start: 1, end: 3, text: 'y' })).toBe(false);
    expect(editsOverlap({ start: 3, end: 3, text: 'x' }, { start: 1, end: 3, text: 'y' })).toBe(false);
    expect(applyEdits('abcd', [{ start: 1, end: 3, text: 'Y' }, { start: 1, end: 1, text: 'x' }, { start: 3, end: 3, text: 'z' }])).toBe('axYzd');
  });

  it('keeps CRLF and every byte outside the edits', () => {
    const text = 'a: 1\r\nb: 2\r\n';
    expect(applyEdits(text, [{ start: 9, end: 10, text: '3' }])).toBe('a: 1\r\nb: 3\r\n');
  });
});

describe('fitsBeside', () => {
  it('accepts disjoint and identical edits, refuses overlapping ones', () => {
    const accepted = [{ start: 0, end: 2, text: 'x' }];
    expect(fitsBeside(accepted, [{ start: 2, end: 3, text: 'y' }])).toBe(true);
    expect(fitsBeside(accepted, [{ start: 0, end: 2, text: 'x' }])).toBe(true);
    expect(fitsBeside(accepted, [{ start: 1, end: 3, text: 'y' }])).toBe(false);
  });
});
