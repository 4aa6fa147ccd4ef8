import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { Rejection } from './rejection.js';

/** Parses an optional positive integer parameter; absent → `fallback`, invalid → 400. */
@Injectable()
export class PositiveIntegerPipe implements PipeTransform<string | undefined, number> {
  constructor(private readonly fallback: number) {}

  transform(value: string | undefined, metadata: ArgumentMetadata): number {
    if (value === undefined || value === '') return this.fallback;
    if (!/^[1-9]\d{0,15}$/.test(value)) {
      throw new Rejection(
        'invalid_parameter',
        `${metadata.data ?? 'parameter'} must be a positive integer`,
      );
    }
    return Number(value);
  }
}
