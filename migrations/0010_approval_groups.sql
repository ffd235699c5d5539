-- The groups (token `groups` claim) of the Guardian who decided, for quorums that need Guardians of distinct
-- groups: the patch page shows which groups its approvals came from.
ALTER TABLE approvals ADD COLUMN groups text[] NOT NULL DEFAULT '{}';
