import { envReferenceEdit, quotedSpans, type ScriptEdit, type ScriptLanguage, spanAt } from '../../../src/analysis/edit/script-quoting';
import { isUnfixable, type Unfixable } from '../../../src/analysis/edit/yaml-edits';

const expression = '${{ github.event.issue.title }}';

/** The context of the first `${{ }}` of the script. */
function contextOf(script: string, language: ScriptLanguage): string {
  return spanAt(quotedSpans(script, language), script.indexOf('${{'), script.length).context;
}

/** The script with the first `${{ }}` read from TITLE instead, or the reason it cannot be. */
function rewritten(script: string, language: ScriptLanguage, parseJson = false): string {
  const offset = script.indexOf('${{');
  const length = script.indexOf('}}', offset) + 2 - offset;
  const edit: ScriptEdit | Unfixable = envReferenceEdit(script, language, quotedSpans(script, language), { offset, length }, 'TITLE', parseJson);
  return isUnfixable(edit) ? `unfixable: ${edit.unfixable}` : script.slice(0, edit.start) + edit.text + script.slice(edit.end);
}

describe('quote contexts', () => {
  it('knows POSIX quotes, escapes, substitutions, comments and here-documents', () => {
    expect(contextOf(`echo ${expression}`, 'posix')).toBe('code');
    expect(contextOf(`echo "a \\" ${expression}"`, 'posix')).toBe('double');
    expect(contextOf(`echo "$(basename ${expression})"`, 'posix')).toBe('code');
    expect(contextOf(`echo 'it''s ${expression}'`, 'posix')).toBe('single');
    expect(contextOf(`echo $'a\\' ${expression}'`, 'posix')).toBe('ansi-c');
    expect(contextOf(`echo hi # ${expression}`, 'posix')).toBe('comment');
    expect(contextOf(`echo a#b ${expression}`, 'posix')).toBe('code');
    expect(contextOf(`cat <<EOF\n${expression}\nEOF\n`, 'posix')).toBe('heredoc');
    expect(contextOf(`cat <<-'EOF'\n\tx ${expression}\n\tEOF\n`, 'posix')).toBe('literal-heredoc');
    expect(contextOf(`cat <<'EOF'\nx\nEOF\necho ${expression}`, 'posix')).toBe('code');
  });

  it("skips the quotes inside other expressions, which GitHub replaces before the shell reads them", () => {
    expect(contextOf(`echo \${{ github.head_ref || 'x' }} ${expression}`, 'posix')).toBe('code');
  });

  it('knows PowerShell strings, here-strings and comments', () => {
    expect(contextOf(`Write-Host "a \`" ${expression}"`, 'powershell')).toBe('double');
    expect(contextOf(`Write-Host 'it''s ${expression}'`, 'powershell')).toBe('single');
    expect(contextOf(`$x = @'\n${expression}\n'@`, 'powershell')).toBe('here-single');
    expect(contextOf(`$x = @"\n${expression}\n"@`, 'powershell')).toBe('here-double');
    expect(contextOf(`<# a\n${expression} #>`, 'powershell')).toBe('comment');
  });

  it('knows JavaScript strings, template literals with nested code, and comments', () => {
    expect(contextOf(`const a = 'x\\' ${expression}';`, 'javascript')).toBe('single');
    expect(contextOf(`const a = \`\${f({ b: 1 })} ${expression}\`;`, 'javascript')).toBe('template');
    expect(contextOf(`const a = \`\${ ${expression} }\`;`, 'javascript')).toBe('code');
    expect(contextOf(`/* "a */ const b = ${expression};`, 'javascript')).toBe('code');
  });
});

describe('env var references', () => {
  it('quotes a bare POSIX reference and closes single quotes around one', () => {
    expect(rewritten(`echo ${expression}x`, 'posix')).toBe('echo "${TITLE}"x');
    expect(rewritten(`echo "a ${expression}b"`, 'posix')).toBe('echo "a ${TITLE}b"');
    expect(rewritten(`echo 'a ${expression} b'`, 'posix')).toBe(`echo 'a '"\${TITLE}"' b'`);
    expect(rewritten(`cat <<'EOF'\n${expression}\nEOF`, 'posix')).toMatch(/^unfixable/);
  });

  it('uses $env: in PowerShell, with braces before name characters, never inside single quotes or longer words', () => {
    expect(rewritten(`Write-Host ${expression}`, 'powershell')).toBe('Write-Host $env:TITLE');
    expect(rewritten(`Write-Host "${expression}:done"`, 'powershell')).toBe('Write-Host "${env:TITLE}:done"');
    expect(rewritten(`Write-Host '${expression}'`, 'powershell')).toMatch(/^unfixable/);
    expect(rewritten(`Write-Host v${expression}`, 'powershell')).toMatch(/^unfixable/);
  });

  it('reads process.env in JavaScript, splitting strings only where + keeps them one operand', () => {
    expect(rewritten(`f('${expression}')`, 'javascript')).toBe('f(process.env.TITLE)');
    expect(rewritten(`f("a ${expression} b")`, 'javascript')).toBe('f("a " + process.env.TITLE + " b")');
    expect(rewritten(`f(\`a ${expression}\`)`, 'javascript')).toBe('f(`a ${process.env.TITLE}`)');
    expect(rewritten(`const n = 'a ${expression}'.length`, 'javascript')).toMatch(/^unfixable/);
    expect(rewritten(`const v = ${expression};`, 'javascript', true)).toBe('const v = JSON.parse(process.env.TITLE);');
    expect(rewritten(`const v = ${expression};`, 'javascript')).toMatch(/^unfixable/);
  });
});
