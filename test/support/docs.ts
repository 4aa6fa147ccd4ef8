import { readFileSync } from 'node:fs';

/** The fenced block of `language` in `file` that contains `marker`, exactly as printed. */
export function documentedBlock(file: string, language: string, marker: string): string {
  const blocks = readFileSync(file, 'utf8').matchAll(
    new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'),
  );
  const block = [...blocks].map(([, text]) => text).find((text) => text.includes(marker));
  if (!block) throw new Error(`${file} has no \`\`\`${language} block with ${marker}`);
  return block;
}
