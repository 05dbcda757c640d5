/// <reference types="node" />

export { verifyReturn, ReturnVerificationError } from "./return";
export type { PaylinkReturn, PaylinkReturnKey } from "./return";

export class WebhookVerificationError extends Error {}

export class PaylinkError extends Error {
  status: number;
  type?: string;
  code?: string;
  param?: string;
  requestId?: string;
}

/** A webhook event envelope (API.md "Webhooks"). */
export interface PaylinkEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  timestamp: string;
  data: T;
}

export type WebhookHeaders = Record<string, string | string[] | undefined> | { get(name: string): string | null };

/** Verify a Standard Webhooks delivery and return its event; throws WebhookVerificationError. */
export function verifyWebhook<T = Record<string, unknown>>(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  options?: { tolerance?: number; now?: () => number },
): PaylinkEvent<T>;

/** The "v1,<base64>" signature of a message, as Paylink sends it. */
export function signWebhook(secret: string, id: string, timestamp: string | number, rawBody: string | Uint8Array): string;

export interface ClientConfig {
  baseURL: string;
  keyId: string;
  secret: string;
}

export interface PaymentLinkParams {
  amount: number;
  currency: string;
  description?: string;
  expires_in?: number;
  expires_at?: string;
  single_use?: boolean;
  success_url?: string;
  cancel_url?: string;
  metadata?: Record<string, string>;
  /** Groups the link and its payments by site (1-64 of a-z 0-9 . _ -). */
  realm?: string;
}

export interface PaymentLink extends PaymentLinkParams {
  id: string;
  url: string;
  status: "active" | "completed" | "expired" | "deactivated";
  expires_at: string;
  created_at: string;
}

/** Create a payment link; retried safely with one Idempotency-Key. */
export function createPaymentLink(
  config: ClientConfig,
  params: PaymentLinkParams,
  options?: { idempotencyKey?: string; retries?: number; fetch?: typeof fetch },
): Promise<PaymentLink>;

export interface SignedLink {
  keyId: string;
  amount: number;
  currency: string;
  /** The merchant's reference; one successful payment per reference. */
  reference: string;
  description?: string;
  successUrl?: string;
  cancelUrl?: string;
  expiresAt?: Date | number;
  expiresIn?: number;
}

/** The canonical string a stateless link's signature covers. */
export function canonicalLinkString(params: Record<string, string | undefined>): string;

/** Sign a stateless payment link offline with an API key secret. */
export function signLink(secret: string, link: SignedLink, options: { baseURL: string; now?: () => number }): string;
