/** Findings keep their fix safety and fix note through the read model (migration 0006). */
import { randomUUID } from 'node:crypto';
import type { Finding } from '../../src/domain/types';
import { completeAnalysis, getFindings, startAnalysis } from '../../src/store/analyses';
import { createTarget } from '../../src/store/targets';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('stored findings', () => {
  let db: TestDatabase;
  let analysisId = '';
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const base: Omit<Finding, 'fixable' | 'fingerprint'> = {
    ruleId: 'missing-job-timeout',
    category: 'efficiency',
    severity: 'low',
    confidence: 'high',
    file: '.github/workflows/ci.yml',
    line: 3,
    column: 3,
    endLine: 3,
    endColumn: 8,
    message: 'job `build` has no `timeout-minutes`',
    remediation: 'Add `timeout-minutes`.',
  };

  test('round-trip fix safety and fix note, and leave them out when absent', async () => {
    const target = await createTarget(db.pool, {
      name: `org/${randomUUID()}`,
      repoUrl: 'https://example.invalid/repo.git',
      branch: 'main',
      healthChecks: [],
      verifyCommand: null,
      createdBy: 'tester',
    });
    const id = randomUUID();
    analysisId = id;
    await startAnalysis(db.pool, { id, targetId: target.id, requestedBy: 'tester' });
    const findings: Finding[] = [
      { ...base, fixable: true, fixSafety: 'unsafe', fingerprint: 'a'.repeat(64) },
      { ...base, fixable: false, fixNote: 'the permissions needed by step `x` (some/action) are unknown', fingerprint: 'b'.repeat(64) },
      { ...base, fixable: false, fingerprint: 'c'.repeat(64) },
    ];
    await completeAnalysis(db.pool, id, { commitSha: 'd'.repeat(40), score: 90, findings, files: 1 });
    await expect(getFindings(db.pool, id)).resolves.toEqual(findings);
  });

  test('the database refuses a fixable finding without a safety', async () => {
    await expect(
      db.pool.query(
        `INSERT INTO findings (analysis_id, ordinal, fingerprint, rule_id, category, severity, confidence, file, line, col,
           end_line, end_col, message, remediation, fixable) VALUES ($1, 9, 'f', 'r', 'quality', 'low', 'high', 'f', 1, 1, 1, 1, 'm', 'r', true)`,
        [analysisId],
      ),
    ).rejects.toThrow(/findings_fix_safety_when_fixable/);
  });
});
