import {
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { HEARTBEAT_STATUSES, NAME_PATTERN, type HeartbeatStatus } from '../client/bridge-wire.js';

/** RFC 3339 date-time with a zone (`Z` or `±hh:mm`); `parseDateTime` reads its groups. */
const RFC3339_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
/** Standard base64 or base64url, padding optional. 2,048 chars covers RSA keys up to 8,192 bits. */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** At least 128 random bits in base64url's alphabet. */
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

class SignedPayloadDto {
  @ApiProperty({ description: 'The sending module', pattern: NAME_PATTERN.source })
  @IsString()
  @Matches(NAME_PATTERN, {
    message: 'payload.module must be 1-64 characters of A-Z a-z 0-9 . _ -',
  })
  module!: string;

  @ApiProperty({
    description: 'Used once: at least 128 random bits',
    pattern: NONCE.source,
  })
  @IsString()
  @Matches(NONCE, {
    message: 'payload.nonce must be 16-128 characters of A-Z a-z 0-9 _ -',
  })
  nonce!: string;

  @ApiProperty({
    description:
      'RFC 3339 date-time with a zone, within MAX_CLOCK_SKEW_SECONDS of the server clock',
    format: 'date-time',
  })
  @IsString()
  @Matches(RFC3339_DATE_TIME, {
    message: 'payload.timestamp must be an RFC 3339 date-time with a zone',
  })
  timestamp!: string;
}

export class UpdatePayloadDto extends SignedPayloadDto {
  @ApiProperty({
    description: 'The update itself: any JSON object',
    type: 'object',
    additionalProperties: true,
  })
  @IsObject({ message: 'payload.data must be a JSON object' })
  data!: Record<string, unknown>;
}

export class HeartbeatPayloadDto extends SignedPayloadDto {
  @ApiProperty({ enum: HEARTBEAT_STATUSES })
  @IsIn(HEARTBEAT_STATUSES, { message: 'payload.status must be alive, degraded or stopping' })
  status!: HeartbeatStatus;

  @ApiPropertyOptional({ description: 'The node that sent it', maxLength: 128 })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  node?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject({ message: 'payload.metrics must be a JSON object' })
  metrics?: Record<string, unknown>;
}

abstract class SignedBodyDto {
  @ApiProperty({
    description:
      'RSASSA-PKCS1-v1_5 / SHA-256 over the UTF-8 bytes of the RFC 8785 (JCS) form of payload; base64 or base64url',
    maxLength: 2048,
    pattern: BASE64.source,
  })
  @IsString({ message: 'signature must be a base64 string' })
  @MaxLength(2048)
  @Matches(BASE64, { message: 'signature must be base64 or base64url' })
  signature!: string;
}

export class SignedUpdateDto extends SignedBodyDto {
  @ApiProperty({ type: () => UpdatePayloadDto })
  @IsObject({ message: 'payload must be a JSON object' })
  @ValidateNested()
  payload!: UpdatePayloadDto;
}

export class SignedHeartbeatDto extends SignedBodyDto {
  @ApiProperty({ type: () => HeartbeatPayloadDto })
  @IsObject({ message: 'payload must be a JSON object' })
  @ValidateNested()
  payload!: HeartbeatPayloadDto;
}

/** The body shape of each signed kind (also what the API reference documents). */
export const SIGNED_BODY_SHAPES = {
  update: SignedUpdateDto,
  heartbeat: SignedHeartbeatDto,
} as const;

/**
 * The envelope of `body` as an instance of its shape, for class-validator: its top-level fields
 * and the payload's named ones, each taken by reference. Nothing below them is copied or visited,
 * so the shape is checked in the same few steps however large `data` or `metrics` are.
 */
export function envelopeOf(
  kind: 'update' | 'heartbeat',
  body: Record<string, unknown>,
): SignedUpdateDto | SignedHeartbeatDto {
  const envelope = new SIGNED_BODY_SHAPES[kind]();
  envelope.signature = body.signature as string;
  const payload = body.payload as Record<string, unknown> | null;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    envelope.payload = payload as never; // refused by @IsObject
    return envelope;
  }
  const shape = kind === 'update' ? new UpdatePayloadDto() : new HeartbeatPayloadDto();
  for (const field of kind === 'update' ? UPDATE_FIELDS : HEARTBEAT_FIELDS)
    if (Object.hasOwn(payload, field))
      (shape as unknown as Record<string, unknown>)[field] = payload[field];
  envelope.payload = shape;
  return envelope;
}

/**
 * True only when `validateSync(envelopeOf(kind, body))` would find nothing: the same rules as the
 * decorators above, checked directly. class-validator builds metadata lookups and error objects
 * for every field of every request, about a tenth of an update's cost beyond the framework
 * (BENCHMARKS.md, stop 11); so it runs only when this says false, and then it decides and words
 * the error. False never wrongly refuses anything; the spec holds that true is never wrong.
 */
export function surelyFollowsShape(kind: 'update' | 'heartbeat', body: Record<string, unknown>) {
  const { signature, payload } = body;
  if (typeof signature !== 'string' || signature.length > 2048 || !BASE64.test(signature))
    return false;
  if (!isJsonObject(payload)) return false;
  const { module, nonce, timestamp } = payload;
  if (typeof module !== 'string' || !NAME_PATTERN.test(module)) return false;
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) return false;
  if (typeof timestamp !== 'string' || !RFC3339_DATE_TIME.test(timestamp)) return false;
  if (kind === 'update') return isJsonObject(payload.data);
  const { status, node, metrics } = payload;
  return (
    HEARTBEAT_STATUSES.includes(status as HeartbeatStatus) &&
    (node === undefined || (typeof node === 'string' && node.length <= 128)) &&
    (metrics === undefined || isJsonObject(metrics))
  );
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ENVELOPE_FIELDS = ['module', 'nonce', 'timestamp'] as const;
const UPDATE_FIELDS = [...ENVELOPE_FIELDS, 'data'] as const;
const HEARTBEAT_FIELDS = [...ENVELOPE_FIELDS, 'status', 'node', 'metrics'] as const;

/**
 * The instant an RFC 3339 date-time names, or undefined when it names none: every field must be
 * in range for its calendar (`2026-02-30`, `24:00:00`, minute 60 are refused, not rolled over as
 * JavaScript's Date does). A leap second (`:60`) is refused too: none has been inserted since
 * 2016, and clocks that smear them never show one.
 */
export function parseDateTime(text: string): Date | undefined {
  const parts = RFC3339_DATE_TIME.exec(text);
  if (!parts) return undefined;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number);
  const [fraction = '', sign, offsetHours = '0', offsetMinutes = '0'] = parts.slice(7);
  const inRange =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    Number(offsetHours) <= 23 &&
    Number(offsetMinutes) <= 59;
  if (!inRange) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(fraction.padEnd(3, '0').slice(0, 3)));
  const offset = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  date.setTime(date.getTime() + (sign === '-' ? offset : -offset));
  return date;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}
