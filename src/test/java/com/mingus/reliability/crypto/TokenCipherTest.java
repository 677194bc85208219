package com.mingus.reliability.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenCipherTest {
  private static final String K1 = "k1:" + Base64.getEncoder().encodeToString(new byte[32]);
  private static final String K2 = "k2:" + Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
  private static final String TOKEN = "access-sandbox-4f9d2c1e-0000-1111-2222-333344445555";

  @Test
  void aSealedTokenOpensOnlyForItsOwner() {
    TokenCipher cipher = TokenCipher.parse(K1, "TOKEN_ENCRYPTION_KEYS");
    TokenCipher.Sealed sealed = cipher.seal(TOKEN, "user-1", "item-1");
    assertThat(sealed.keyId()).isEqualTo("k1");
    assertThat(sealed.nonce()).hasSize(12);
    assertThat(new String(sealed.ciphertext(), StandardCharsets.ISO_8859_1)).doesNotContain("access-sandbox");
    assertThat(sealed.toString()).doesNotContain(TOKEN);
    assertThat(cipher.open(sealed, "user-1", "item-1")).isEqualTo(TOKEN);
    assertThatThrownBy(() -> cipher.open(sealed, "user-2", "item-1")).hasMessageNotContaining(TOKEN);
    assertThatThrownBy(() -> cipher.open(sealed, "user-1", "item-2")).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void everyEncryptionUsesAFreshNonceAndTamperingIsDetected() {
    TokenCipher cipher = TokenCipher.parse(K1, "TOKEN_ENCRYPTION_KEYS");
    Set<String> nonces = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      nonces.add(Base64.getEncoder().encodeToString(cipher.seal(TOKEN, "u", "i").nonce()));
    }
    assertThat(nonces).hasSize(1000);
    TokenCipher.Sealed sealed = cipher.seal(TOKEN, "u", "i");
    byte[] flipped = sealed.ciphertext().clone();
    flipped[3] ^= 1;
    assertThatThrownBy(() -> cipher.open(new TokenCipher.Sealed("k1", sealed.nonce(), flipped), "u", "i"))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theFirstKeyEncryptsAndEveryKeyDecrypts() {
    TokenCipher old = TokenCipher.parse(K1, "TOKEN_ENCRYPTION_KEYS");
    TokenCipher rotated = TokenCipher.parse(K2 + "," + K1, "TOKEN_ENCRYPTION_KEYS");
    TokenCipher.Sealed underOld = old.seal(TOKEN, "u", "i");
    assertThat(rotated.primaryKeyId()).isEqualTo("k2");
    assertThat(rotated.open(underOld, "u", "i")).isEqualTo(TOKEN);
    assertThat(rotated.seal(TOKEN, "u", "i").keyId()).isEqualTo("k2");
    assertThat(TokenCipher.fromConfig(rotated.toConfig()).open(underOld, "u", "i")).isEqualTo(TOKEN);
  }

  @Test
  void malformedKeysAreRefusedNamingTheSetting() {
    assertThatThrownBy(() -> TokenCipher.parse("k1:short", "TOKEN_ENCRYPTION_KEYS"))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("TOKEN_ENCRYPTION_KEYS: ");
    assertThatThrownBy(() -> TokenCipher.parse("nokey", "TOKEN_ENCRYPTION_KEYS")).isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> TokenCipher.parse(K1 + "," + K1, "TOKEN_ENCRYPTION_KEYS")).isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> TokenCipher.parse("k1:!!!notbase64", "TOKEN_ENCRYPTION_KEYS")).isInstanceOf(ConfigException.class);
  }

  @Test
  void withoutASettingAKeyFileIsCreatedOnceInTheDataDirectory() throws Exception {
    Path dir = Files.createTempDirectory("keys");
    TokenCipher first = TokenCipher.load(null, dir);
    TokenCipher second = TokenCipher.load("", dir);
    TokenCipher.Sealed sealed = first.seal(TOKEN, "u", "i");
    assertThat(second.open(sealed, "u", "i")).isEqualTo(TOKEN);
    assertThat(Files.getPosixFilePermissions(dir.resolve("token-encryption-keys")))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
  }
}
