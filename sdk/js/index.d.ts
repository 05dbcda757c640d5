export * from "./server";
export { mount, version } from "./browser";
export type { MountOptions, MountedForm, PaylinkAppearance, PaylinkPayment, PaylinkFormError } from "./browser";
