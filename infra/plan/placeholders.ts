// The example values Pulumi.prod.yaml ships with (marked REPLACE there). The offline plan runs with them as they
// are, so `npm run plan` warns about each one still in the stack file: a real preview or deploy with them fails
// (aws:allowedAccountIds refuses the real account) or mails alarms to nobody.
const PLACEHOLDERS = [
  { value: '123456789012', what: 'account' },
  { value: 'ops@retainwise.example', what: 'address' },
] as const;

/** What to put in a key that still holds a placeholder. */
const WANTED: Record<string, string> = {
  'aws:allowedAccountIds':
    'put the production AWS account id there (aws sts get-caller-identity --query Account --output text)',
  'retainwise:stateKmsKeyArn': "put the ARN of the KMS key that encrypts the stack's secrets there",
  'retainwise:databaseUrlSecretArn':
    'put the full ARN of the Secrets Manager secret holding the postgresql:// URL there',
  'retainwise:alarmEmail': 'put the address that should receive the alarm e-mails there',
};

/** One line per key of `config` (engine-style, as readStackFiles returns it) that holds a placeholder. */
export function placeholderWarnings(file: string, config: Record<string, string>): string[] {
  return Object.entries(config).flatMap(([key, value]) =>
    PLACEHOLDERS.filter((p) => value.includes(p.value)).map(
      (p) =>
        `${file} ${key} holds the placeholder ${p.what} ${p.value}: ${WANTED[key] ?? `put the real ${p.what} there`}`,
    ),
  );
}
