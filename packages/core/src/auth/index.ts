export {
  AUTH_SCHEME,
  AuthenticationError,
  MAX_CLOCK_SKEW_MS,
  type RequestToSign,
  requestSigningText,
  type SignRequestParameters,
  signRequest,
  UNSIGNED_PAYLOAD,
  type VerifyRequestParameters,
  verifyRequest,
} from './request-signature.js'
