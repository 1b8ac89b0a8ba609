// Failure types shared by the workflow's retry policy and the activities that raise them.

/** A translator 4xx: the name itself is refused, so retrying cannot help. */
export const TRANSLATOR_REJECTED = 'TranslatorRejectedName';
/** A translator 5xx or network error: retried by the workflow's retry policy. */
export const TRANSLATOR_UNAVAILABLE = 'TranslatorUnavailable';
