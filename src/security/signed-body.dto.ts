import { Type } from 'class-transformer';
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

/** RFC 3339 date-time with a zone (`Z` or `±hh:mm`). */
export const RFC3339_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
/** Standard base64 or base64url, padding optional. 2,048 chars covers RSA keys up to 8,192 bits. */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

class SignedPayloadDto {
  @ApiProperty({ description: 'The sending module', pattern: NAME_PATTERN.source })
  @IsString()
  @Matches(NAME_PATTERN, {
    message: 'payload.module must be 1-64 characters of A-Z a-z 0-9 . _ -',
  })
  module!: string;

  @ApiProperty({
    description: 'Used once: at least 128 random bits',
    pattern: '^[A-Za-z0-9_-]{16,128}$',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{16,128}$/, {
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
  @Type(() => UpdatePayloadDto)
  payload!: UpdatePayloadDto;
}

export class SignedHeartbeatDto extends SignedBodyDto {
  @ApiProperty({ type: () => HeartbeatPayloadDto })
  @IsObject({ message: 'payload must be a JSON object' })
  @ValidateNested()
  @Type(() => HeartbeatPayloadDto)
  payload!: HeartbeatPayloadDto;
}
