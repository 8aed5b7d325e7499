// The error the federation throws to its callers: a start it refuses (missing or wrong
// certificate, unreadable files), a publish it cannot make, an entry it will not adopt.
export class FederationError extends Error {
  override readonly name = 'FederationError';
}
