// SigV4 as Bedrock Runtime checks it (opt-in: EmulatorOptions.credentials). The request is
// signed again here from what arrived (method, raw path, query, the headers it names as
// signed, the body) with the secret of its access key id, by the same signer the SDK signs
// with, and the signatures compared. So a client that signs the wrong bytes, with the
// wrong key, for the wrong region or service, or an old signature, is refused as AWS
// would refuse it, with AWS's own error types.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import { Sha256 } from '@smithy/core/checksum'
import { HttpRequest } from '@smithy/core/protocols'
import { SignatureV4 } from '@smithy/signature-v4'

export interface SigV4Refusal { status: number, type: string, message: string }

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;:-]+),\s*Signature=([0-9a-f]{64})$/
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/
// AWS refuses a signature dated more than 5 minutes from its clock (RequestTimeTooSkewed / "Signature expired").
const MAX_SKEW_MS = 5 * 60_000

const BAD_SIGNATURE = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

/**
 * undefined when the request carries a valid SigV4 signature by one of `credentials`
 * (access key id -> secret access key); otherwise what AWS answers (HTTP 403).
 */
export async function checkSigV4 (req: IncomingMessage | Http2ServerRequest, body: string, credentials: Readonly<Record<string, string>>): Promise<SigV4Refusal | undefined> {
  const header = one(req.headers.authorization)
  if (header === undefined) return { status: 403, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' }
  const parts = AUTHORIZATION.exec(header)
  if (parts === null) return { status: 403, type: 'IncompleteSignatureException', message: 'Authorization header requires a valid AWS4-HMAC-SHA256 Credential, SignedHeaders and Signature.' }
  const [, accessKeyId = '', shortDate, region = '', service = '', signedList = '', signature] = parts
  const secretAccessKey = Object.hasOwn(credentials, accessKeyId) ? credentials[accessKeyId] : undefined
  if (secretAccessKey === undefined) return { status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }
  const signingDate = parseAmzDate(one(req.headers['x-amz-date']))
  if (signingDate === undefined || !signingDate.toISOString().replace(/-/g, '').startsWith(shortDate ?? '')) {
    return { status: 403, type: 'InvalidSignatureException', message: BAD_SIGNATURE }
  }
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) {
    return { status: 403, type: 'InvalidSignatureException', message: 'Signature expired: the request date is more than 5 minutes from the server time.' }
  }

  const url = new URL(req.url ?? '/', 'http://emulator.invalid')
  const names = signedList.split(';')
  const headers: Record<string, string> = {}
  for (const name of names) {
    // x-amz-content-sha256 is recomputed from the body, so the body is what is checked.
    if (name === 'x-amz-date' || name === 'x-amz-content-sha256') continue
    // Over HTTP/2 the SDK signs :authority; a host header may stand for it.
    const value = name === 'host' ? one(req.headers.host) ?? one(req.headers[':authority']) : one(req.headers[name])
    if (value === undefined) return { status: 403, type: 'InvalidSignatureException', message: BAD_SIGNATURE }
    headers[name] = value
  }
  // A client that did not sign the body's hash header (applyChecksum off) still signs the body.
  const applyChecksum = names.includes('x-amz-content-sha256')
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service, sha256: Sha256, applyChecksum })
  const request = new HttpRequest({
    method: req.method ?? 'POST',
    protocol: 'http:',
    hostname: headers.host ?? '',
    // Exactly as sent: the signer escapes it as the client's signer did.
    path: (req.url ?? '/').split('?')[0],
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
  })
  // Exactly the headers the client signed, even ones the SDK's signer would leave out (user-agent).
  const signed = await signer.sign(request, { signingDate, signingRegion: region, signingService: service, signableHeaders: new Set(names) })
  const ours = AUTHORIZATION.exec(one(signed.headers.authorization) ?? '')
  if (ours?.[5] !== signedList || ours[6] !== signature) return { status: 403, type: 'InvalidSignatureException', message: BAD_SIGNATURE }
  return undefined
}

function one (value: IncomingHttpHeaders[string]): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function parseAmzDate (value: string | undefined): Date | undefined {
  const m = value === undefined ? null : AMZ_DATE.exec(value)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number]
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s))
}
