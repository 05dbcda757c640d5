/** Thrown when a return's paylink_* parameters do not check out. */
export class ReturnVerificationError extends Error {}

/** One public key of GET /.well-known/paylink-keys.json. */
export interface PaylinkReturnKey {
  kid: string;
  alg: "Ed25519";
  /** base64url, no padding, 32 bytes */
  public_key: string;
}

/** What a verified return says. */
export interface PaylinkReturn {
  payment: string;
  status: "succeeded" | "failed" | "canceled" | string;
  /** plink_… for a link, pform_… for a form, "<merchant id>:<reference>" for a stateless signed link */
  source: string;
  /** unix seconds of the signature */
  timestamp: number;
  kid: string;
}

/**
 * Verify a return to your success_url/cancel_url with Paylink's public
 * keys; no secret, no API call. Rejects with ReturnVerificationError.
 */
export function verifyReturn(
  url: string | URL | { href: string },
  keys: { keys: PaylinkReturnKey[] } | PaylinkReturnKey[],
  options?: { maxAge?: number; now?: () => number; subtle?: SubtleCrypto },
): Promise<PaylinkReturn>;
