// SPDX-License-Identifier: Apache-2.0
package org.quarry.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalyzerFactory;

/**
 * {@code quarry_english}: Lucene's {@link EnglishAnalyzer} (standard tokenizer, possessive removal,
 * lowercase, English stop words, Porter stemming), the same chain as Elasticsearch's {@code english}.
 */
@NamedComponent("quarry_english")
public class QuarryEnglishAnalyzerFactory implements AnalyzerFactory {

    @Override
    public Analyzer create() {
        return new EnglishAnalyzer();
    }
}
