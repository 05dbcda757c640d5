/** A payment as the form reports it on success. */
export interface PaylinkPayment {
  id: string;
  status: "succeeded" | "requires_action" | "processing" | "failed" | "canceled";
  amount: number;
  currency: string;
}

/** An error the form reports (API.md's error code and message). */
export interface PaylinkFormError {
  code: string;
  message: string;
}

/** Look of the form; colours are CSS hex colours. */
export interface PaylinkAppearance {
  theme?: "light" | "dark";
  accentColor?: string;
  borderRadius?: number;
  fontFamily?: "system" | "serif" | "mono";
}

export interface MountOptions {
  /** The payment form id, "pform_…". */
  form: string;
  /** The Paylink server; defaults to the origin the SDK was loaded from. */
  baseURL?: string;
  /** The iframe's accessible title. */
  title?: string;
  appearance?: PaylinkAppearance;
  onReady?: (info: { form: string }) => void;
  /** Called once the payment succeeded. Without it, the page goes to the form's success_url (when it has one). */
  onSuccess?: (payment: PaylinkPayment) => void;
  onError?: (error: PaylinkFormError) => void;
}

export interface MountedForm {
  frame: HTMLIFrameElement;
  /** Remove the frame and stop listening to it. */
  unmount(): void;
}

/** Mount a Paylink payment form into element (a DOM element or a selector). */
export function mount(element: Element | string, options: MountOptions): MountedForm;
export const version: string;
declare const Paylink: { version: string; mount: typeof mount };
export default Paylink;
