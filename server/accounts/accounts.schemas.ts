// Shapes of the accounts REST API (/api/v1): what clients send and receive.
import { Type } from 'typebox';

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('editor')], { description: 'admin ⊇ editor' });

export const UserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  role: RoleSchema,
});

export const UserWithDateSchema = Type.Object({
  ...UserSchema.properties,
  createdAt: Type.String({ format: 'date-time' }),
});

export const NewUserSchema = Type.Object({
  email: Type.String({ maxLength: 320 }),
  role: RoleSchema,
  password: Type.String({ minLength: 10, maxLength: 1000, description: 'At least 10 characters' }),
  displayName: Type.Optional(Type.String({ maxLength: 100 })),
});

export const TokenSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the token, to recognise it' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const NewTokenSchema = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) });

export const CreatedTokenSchema = Type.Object({
  ...TokenSchema.properties,
  token: Type.String({ description: 'The token itself: shown this once, never again' }),
});

export const ErrorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true }),
});

export const TokenParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
