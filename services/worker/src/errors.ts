// Failure types shared by the workflow's retry policy and the activities that raise them.

/** A translator 4xx (other than 408 and 429): the name itself is refused, so retrying cannot help. */
export const TRANSLATOR_REJECTED = 'TranslatorRejectedName';
/** A translator 5xx, 408 or 429, or a network error: retried by the workflow's retry policy. */
export const TRANSLATOR_UNAVAILABLE = 'TranslatorUnavailable';
